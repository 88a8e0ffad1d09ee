package io.parityd.front;

import io.parityd.protocol.BlockSizes;
import io.parityd.protocol.ExportCatalog;
import io.parityd.protocol.ExportInfo;
import io.parityd.protocol.TransmissionFlag;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;

/**
 * The one export a parityd process serves: the volume, under its name and under the empty
 * (default) name, so {@code nbd-client HOST} and {@code nbdinfo nbd://HOST} work without
 * knowing the name.
 */
public final class VolumeExport implements ExportCatalog {

    /**
     * Requests must be 512-byte aligned: the sector size every NBD client uses anyway, and the
     * unit the RAID engine works in. 4 KiB is preferred because a smaller write is a partial
     * page on every member. 32 MiB is the largest READ/WRITE the spec says clients should
     * expect a server to take.
     */
    public static final BlockSizes BLOCK_SIZES = new BlockSizes(512, 4096, 32 << 20);

    /**
     * Everything the volume supports. CAN_MULTI_CONN is honest because all connections share
     * one controller and one volume with no per-connection cache, so a FLUSH on any connection
     * covers writes completed on all of them. SEND_CACHE because the kernel and qemu send CACHE
     * (prefetch) hints: they are answered at once, as the spec allows, since parityd keeps no
     * cache of its own for a prefetch to fill (TransmissionHandler).
     */
    private static final EnumSet<TransmissionFlag> FLAGS = EnumSet.of(
            TransmissionFlag.SEND_FLUSH, TransmissionFlag.SEND_FUA, TransmissionFlag.SEND_TRIM,
            TransmissionFlag.SEND_WRITE_ZEROES, TransmissionFlag.SEND_FAST_ZERO, TransmissionFlag.CAN_MULTI_CONN,
            TransmissionFlag.SEND_CACHE);

    private final ExportInfo export;
    private volatile boolean shuttingDown;

    public VolumeExport(String name, String description, long size) {
        this(name, description, size, false);
    }

    /**
     * @param readOnly NBD_FLAG_READ_ONLY: clients see a read-only disk, and a WRITE, TRIM or
     *                 WRITE_ZEROES that one sends anyway gets EPERM (RequestValidator) before it
     *                 reaches the array. TRIM and WRITE_ZEROES stay advertised so that they get
     *                 that answer rather than "not offered", as nbd-server does.
     */
    public VolumeExport(String name, String description, long size, boolean readOnly) {
        EnumSet<TransmissionFlag> flags = EnumSet.copyOf(FLAGS);
        if (readOnly) {
            flags.add(TransmissionFlag.READ_ONLY);
        }
        this.export = new ExportInfo(name, description, size, BLOCK_SIZES, flags);
    }

    public boolean readOnly() {
        return export.flags().contains(TransmissionFlag.READ_ONLY);
    }

    public ExportInfo info() {
        return export;
    }

    @Override
    public Optional<ExportInfo> find(String name) {
        return name.isEmpty() || name.equals(export.name()) ? Optional.of(export) : Optional.empty();
    }

    @Override
    public List<ExportInfo> list() {
        return List.of(export);
    }

    @Override
    public boolean shuttingDown() {
        return shuttingDown;
    }

    /** From now on, handshakes are refused with NBD_REP_ERR_SHUTDOWN. */
    void beginShutdown() {
        shuttingDown = true;
    }
}
