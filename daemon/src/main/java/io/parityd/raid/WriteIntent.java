package io.parityd.raid;

import io.parityd.block.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which regions of the array were written while a slot was away: md's write-intent bitmap for
 * {@code --re-add}, kept only while the array is degraded. A member that drops out and comes back
 * then needs only those regions resynced, not a whole rebuild ({@code parityd re-add}).
 *
 * <p><b>Recording.</b> From the moment a slot goes down (before its failure is recorded in the
 * superblocks) until every slot is active again, every change to a stripe first marks its region,
 * durably on every serving member, unless the region is marked already: so the first write to a
 * region costs one small synchronous write, later ones nothing. When recording starts, the regions
 * with a change in flight are marked too, since such a change may have reached the others but not
 * the slot that just failed. Recording remembers the array's superblock generation it began at:
 * a member whose own superblock is at that generation or later dropped out while recording was on,
 * so every write it missed is marked ({@link #covers}).
 *
 * <p><b>On disk.</b> One 4 KiB block in each member's metadata area, after the superblock copies
 * (offset {@link #OFFSET}), identical on every member: magic {@code PARITYWI}, version, flags (bit
 * 0: recording), a sequence number bumped on every write, the generation recording began at, the
 * array UUID, the region size in stripes, the region count, a CRC32C, then one bit per region. At
 * assembly the valid block with the highest sequence among the serving members wins; a torn or
 * missing one only means a re-add rebuilds in full.
 */
public final class WriteIntent {

    private static final Logger log = LoggerFactory.getLogger(WriteIntent.class);

    /** Where the block lives on each member: right after the two superblock copies. */
    public static final long OFFSET = Superblock.RESERVED_BYTES;
    static final int BLOCK = 4096;
    private static final int HEADER = 64;
    /** Regions one block can hold. */
    static final int MAX_REGIONS = (BLOCK - HEADER) * 8;
    private static final byte[] MAGIC = "PARITYWI".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final int FLAG_RECORDING = 1;

    /** Where the block goes: durably to every serving member, failing a member that cannot take it. */
    interface Store {
        /** @throws IOException if no serving member took it */
        void write(ByteBuffer block, long offset) throws IOException;
    }

    /** Records nothing: for volumes no service attached an intent to (offline tools, tests). */
    static final WriteIntent NONE = new WriteIntent(null, 1, 1, () -> 0, false, 0, 0, new long[1]);

    private final UUID array;
    private final long regionStripes;
    private final int regions;
    private final LongSupplier generation;
    private final AtomicIntegerArray inFlight;
    /** One bit per region; written under this object's lock, read without it. */
    private final AtomicLongArray bits;
    private volatile boolean recording;
    private volatile Store store;
    private long since;
    private long sequence;
    /** Set when a record could not be written: a re-add cannot trust it and rebuilds in full. */
    private boolean lost;

    private WriteIntent(UUID array, long regionStripes, int regions, LongSupplier generation, boolean recording,
                        long since, long sequence, long[] bits) {
        this.array = array;
        this.regionStripes = regionStripes;
        this.regions = regions;
        this.generation = generation;
        this.inFlight = new AtomicIntegerArray(array == null ? 1 : regions);
        this.bits = new AtomicLongArray(bits);
        this.recording = recording;
        this.since = since;
        this.sequence = sequence;
    }

    /** Stripes per region: the smallest power of two that fits the array's stripes into one block. */
    static long regionStripes(long stripes) {
        long r = 1;
        while ((stripes + r - 1) / r > MAX_REGIONS) {
            r <<= 1;
        }
        return r;
    }

    /**
     * The intent of an assembled array, from the newest valid block among {@code devices} (the
     * serving members'); a fresh one if none holds one for this array.
     *
     * @param generation the array's current superblock generation, read when recording starts
     */
    public static WriteIntent load(ArrayGeometry g, List<? extends BlockDevice> devices, LongSupplier generation) {
        if (g.dataOffset() < OFFSET + BLOCK) {
            return NONE; // no room before the data (only test geometries are this small)
        }
        long regionStripes = regionStripes(g.stripes());
        int regions = (int) ((g.stripes() + regionStripes - 1) / regionStripes);
        ByteBuffer newest = null;
        long newestSequence = -1;
        for (BlockDevice device : devices) {
            if (device == null) {
                continue;
            }
            ByteBuffer block = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
            try {
                device.read(block, OFFSET);
            } catch (IOException e) {
                continue; // the assembly or the first I/O deals with a member that cannot be read
            }
            block.flip();
            if (valid(block, g.arrayUuid(), regionStripes, regions) && block.getLong(0x10) > newestSequence) {
                newest = block;
                newestSequence = block.getLong(0x10);
            }
        }
        long[] bits = new long[(regions + 63) / 64];
        if (newest == null) {
            return new WriteIntent(g.arrayUuid(), regionStripes, regions, generation, false, 0, 0, bits);
        }
        for (int r = 0; r < regions; r++) {
            if ((newest.get(HEADER + r / 8) & (1 << (r % 8))) != 0) {
                bits[r / 64] |= 1L << (r % 64);
            }
        }
        boolean recording = (newest.getInt(0x0C) & FLAG_RECORDING) != 0;
        return new WriteIntent(g.arrayUuid(), regionStripes, regions, generation, recording, newest.getLong(0x18),
                newestSequence, recording ? bits : new long[bits.length]);
    }

    private static boolean valid(ByteBuffer b, UUID array, long regionStripes, int regions) {
        byte[] magic = new byte[MAGIC.length];
        b.get(0, magic);
        if (!Arrays.equals(magic, MAGIC) || b.getInt(0x08) != VERSION) {
            return false;
        }
        int stored = b.getInt(0x3C);
        b.putInt(0x3C, 0);
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(0).limit(BLOCK));
        b.putInt(0x3C, stored);
        return (int) crc.getValue() == stored && new UUID(b.getLong(0x20), b.getLong(0x28)).equals(array)
                && b.getLong(0x30) == regionStripes && b.getInt(0x38) == regions;
    }

    /** Called once the volume is open: where records go. Starts recording if a slot is down already. */
    void attach(Store where, boolean degraded) {
        this.store = where;
        if (degraded && !recording) {
            startRecording();
        } else if (degraded) {
            log.info("write intent: {} region(s) written since generation {} while a member was away", marked(), since);
        }
    }

    boolean recording() {
        return recording;
    }

    /**
     * A change to stripes {@code [first, last]} begins: counted as in flight, and while recording
     * its regions are marked durably before it may touch a member.
     */
    void enter(long first, long last) throws IOException {
        if (array == null) {
            return;
        }
        int r0 = (int) (first / regionStripes);
        int r1 = (int) (last / regionStripes);
        for (int r = r0; r <= r1; r++) {
            inFlight.incrementAndGet(r);
        }
        if (recording && !allMarked(r0, r1)) {
            try {
                mark(r0, r1);
            } catch (IOException | RuntimeException e) {
                exit(first, last);
                throw e;
            }
        }
    }

    /** The change {@link #enter} counted is over. */
    void exit(long first, long last) {
        if (array == null) {
            return;
        }
        for (int r = (int) (first / regionStripes); r <= last / regionStripes; r++) {
            inFlight.decrementAndGet(r);
        }
    }

    private boolean allMarked(int r0, int r1) {
        for (int r = r0; r <= r1; r++) {
            if ((bits.get(r / 64) & (1L << (r % 64))) == 0) {
                return false;
            }
        }
        return true;
    }

    private synchronized void mark(int r0, int r1) throws IOException {
        if (!recording || allMarked(r0, r1)) {
            return;
        }
        for (int r = r0; r <= r1; r++) {
            set(r);
        }
        persist();
    }

    private void set(int r) {
        int word = r / 64;
        bits.set(word, bits.get(word) | (1L << (r % 64)));
    }

    /**
     * A slot went down: from now on every change marks its regions. Marks the regions with a
     * change in flight, and persists, before the caller records the failure.
     */
    synchronized void startRecording() {
        if (array == null || recording) {
            return;
        }
        since = generation.getAsLong();
        for (int w = 0; w < bits.length(); w++) {
            bits.set(w, 0);
        }
        recording = true; // before reading the in-flight counts: enter() counts, then reads this
        for (int r = 0; r < regions; r++) {
            if (inFlight.get(r) > 0) {
                set(r);
            }
        }
        lost = false;
        log.info("write intent: recording the regions written while a member is away, from generation {} ({} in"
                + " flight now)", since, marked());
        try {
            persist();
        } catch (IOException e) {
            lost = true;
            log.warn("write intent: cannot record it on any member ({}); a re-add will rebuild in full", e.toString());
        }
    }

    /**
     * Clears the record if {@code nothingDown} still holds under this lock: every slot is active
     * again, nothing is away. A slot failing meanwhile either keeps it or starts it afresh.
     */
    synchronized void stopRecording(java.util.function.BooleanSupplier nothingDown) {
        if (array == null || !recording || !nothingDown.getAsBoolean()) {
            return;
        }
        recording = false;
        for (int w = 0; w < bits.length(); w++) {
            bits.set(w, 0);
        }
        try {
            persist();
        } catch (IOException e) {
            log.warn("write intent: cannot clear it on the members ({}); it is ignored while every slot is active",
                    e.toString());
        }
    }

    /**
     * Whether the marks cover every write a member missed that last took part at superblock
     * generation {@code memberGeneration}: recording has been on, and persisted, since then.
     */
    public synchronized boolean covers(long memberGeneration) {
        return array != null && recording && !lost && since <= memberGeneration;
    }

    /** Whether any region overlapping stripes {@code [from, to)} is marked. */
    boolean marked(long from, long to) {
        return !allClear((int) (from / regionStripes), (int) ((to - 1) / regionStripes));
    }

    private boolean allClear(int r0, int r1) {
        for (int r = r0; r <= r1; r++) {
            if ((bits.get(r / 64) & (1L << (r % 64))) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Regions marked now. */
    public int marked() {
        int n = 0;
        for (int w = 0; w < bits.length(); w++) {
            n += Long.bitCount(bits.get(w));
        }
        return n;
    }

    public long regionStripes() {
        return regionStripes;
    }

    public int regions() {
        return regions;
    }

    private void persist() throws IOException {
        Store where = store;
        if (where == null) {
            return; // not attached yet: attach() persists
        }
        sequence++;
        where.write(encode(), OFFSET);
    }

    private ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, MAGIC);
        b.putInt(0x08, VERSION);
        b.putInt(0x0C, recording ? FLAG_RECORDING : 0);
        b.putLong(0x10, sequence);
        b.putLong(0x18, since);
        b.putLong(0x20, array.getMostSignificantBits());
        b.putLong(0x28, array.getLeastSignificantBits());
        b.putLong(0x30, regionStripes);
        b.putInt(0x38, regions);
        for (int r = 0; r < regions; r++) {
            if ((bits.get(r / 64) & (1L << (r % 64))) != 0) {
                b.put(HEADER + r / 8, (byte) (b.get(HEADER + r / 8) | (1 << (r % 8))));
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(0).limit(BLOCK));
        b.putInt(0x3C, (int) crc.getValue());
        return b.position(0).limit(BLOCK);
    }
}
