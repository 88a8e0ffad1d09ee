package io.parityd.protocol;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/** A real, tiny catalog: a fixed list of exports, the first one being the default; shutdown switchable. */
final class FakeCatalog implements ExportCatalog {

    static final BlockSizes SIZES = new BlockSizes(512, 4096, 32 << 20);

    static final ExportInfo DISK = new ExportInfo("disk", "a parity volume", 1L << 30, SIZES,
            Set.of(TransmissionFlag.SEND_FLUSH, TransmissionFlag.SEND_FUA, TransmissionFlag.SEND_TRIM,
                    TransmissionFlag.SEND_WRITE_ZEROES, TransmissionFlag.SEND_FAST_ZERO));
    static final ExportInfo ARCHIVE = new ExportInfo("archive", "read-only copy", 4L << 20, SIZES,
            Set.of(TransmissionFlag.READ_ONLY));

    private final List<ExportInfo> exports;
    private volatile boolean shuttingDown;

    FakeCatalog(ExportInfo... exports) {
        this.exports = List.of(exports);
    }

    static FakeCatalog standard() {
        return new FakeCatalog(DISK, ARCHIVE);
    }

    void shutDown() {
        shuttingDown = true;
    }

    @Override
    public Optional<ExportInfo> find(String name) {
        if (name.isEmpty()) {
            return exports.stream().findFirst();
        }
        return exports.stream().filter(e -> e.name().equals(name)).findFirst();
    }

    @Override
    public List<ExportInfo> list() {
        return exports;
    }

    @Override
    public boolean shuttingDown() {
        return shuttingDown;
    }
}
