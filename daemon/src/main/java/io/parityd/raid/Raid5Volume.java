package io.parityd.raid;

import io.parityd.block.BlockDevice;
import io.parityd.block.IoFailures;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The RAID-5 volume: one {@link BlockDevice} over {@code n} member devices in md's
 * left-symmetric layout (DESIGN.md "RAID"; {@link Layout}). This is step 4 of "The write path":
 * what the primary does once a write is journaled. It takes the stripe locks, writes data and
 * parity ({@link StripeWriter}), and on FUA makes them durable.
 *
 * <p>Requests: offsets and lengths are multiples of {@value #SECTOR} inside {@link #size()}
 * (the front validates before calling; a violation here is a bug and throws
 * {@link IllegalArgumentException}). Like a channel, {@link #read} leaves {@code dst}'s position
 * at its limit and {@link #write} leaves {@code src}'s position at its limit.
 *
 * <p>Concurrency: any number of threads. A write, zeroing or trim locks every stripe it touches
 * for its whole duration ({@link StripeLocks}), so overlapping requests apply one after another
 * and parity always matches the data it was computed with. Reads of a healthy array take no
 * lock: each byte lives on exactly one member, and a read racing a write of the same bytes may
 * see either, as on a disk. A reconstructing (degraded) read will need data and parity of one
 * moment and so will lock; it slots in at {@code readChunk}.
 *
 * <p>Memory: each thread that writes gets its own {@link StripeWriter} with two chunk-sized
 * direct buffers ({@code 2 × (chunk + 4 KiB)} with alignment slack: 136 KiB per thread at a 64
 * KiB chunk, about 1 MiB at md's 512 KiB), so total scratch is bounded by the I/O pool size and
 * released when the volume and its threads are gone. Reads need no scratch.
 *
 * <p>FUA: after the request's writes, and after its locks are released, each member the
 * request wrote is flushed once. Only those: FUA promises durability of this request, whose
 * bytes live only there, and an fdatasync of an untouched member is wasted work. One flush per
 * member rather than FUA on each member write: a stripe writes several ranges per member. After
 * the locks, because holding them across an fdatasync would queue every other writer of those
 * stripes behind a disk sync, and durability of bytes already written needs no lock; a later
 * overlapping write that lands first simply supersedes them, as on a disk.
 *
 * <p>Errors: a member's {@link IOException} propagates; the stripe may then be inconsistent
 * and the journal's redo repairs it. Marking the member faulty is later work.
 *
 * <p>This volume owns its members: {@link #close()} closes them.
 */
public final class Raid5Volume implements BlockDevice {

    /** Request alignment: the NBD minimum block size we advertise. */
    public static final int SECTOR = 512;

    private final ArrayGeometry geometry;
    private final Layout layout;
    private final BlockDevice[] members;
    private final StripeLocks locks;
    private final ThreadLocal<StripeWriter> writers;
    private final long size;
    private final long stripeDataSize;
    private final int chunk;

    /**
     * @param geometry the array's shape; must be RAID-5
     * @param members  member devices by slot: {@code members.get(i)} is member {@code i}; each at
     *                 least {@code dataOffset + memberDataSize} bytes
     */
    public Raid5Volume(ArrayGeometry geometry, List<? extends BlockDevice> members) {
        this(geometry, members, new StripeLocks());
    }

    public Raid5Volume(ArrayGeometry geometry, List<? extends BlockDevice> members, StripeLocks locks) {
        checkShape(geometry, members);
        this.geometry = geometry;
        this.layout = new Layout(geometry);
        this.members = members.toArray(new BlockDevice[0]);
        this.locks = locks;
        this.writers = ThreadLocal.withInitial(() -> new StripeWriter(this.members, layout));
        this.size = geometry.volumeSize();
        this.stripeDataSize = geometry.stripeDataSize();
        this.chunk = geometry.chunkSize();
    }

    private static void checkShape(ArrayGeometry geometry, List<? extends BlockDevice> members) {
        if (geometry.level() != 5) {
            throw new IllegalArgumentException("Raid5Volume needs a level 5 geometry, got level " + geometry.level());
        }
        if (members.size() != geometry.memberCount()) {
            throw new IllegalArgumentException("geometry has " + geometry.memberCount()
                    + " members but " + members.size() + " devices were given");
        }
        if (geometry.stripeDataSize() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("stripe of " + geometry.stripeDataSize() + " bytes is too large");
        }
        long needed = geometry.dataOffset() + geometry.memberDataSize();
        for (int i = 0; i < members.size(); i++) {
            BlockDevice m = members.get(i);
            if (m.size() < needed) {
                throw new IllegalArgumentException("member " + i + " (" + m.describe() + ") has "
                        + m.size() + " bytes, the geometry needs " + needed);
            }
        }
    }

    @Override
    public String describe() {
        return "raid5:" + geometry.name();
    }

    @Override
    public long size() {
        return size;
    }

    /** The array's shape. */
    public ArrayGeometry geometry() {
        return geometry;
    }

    /** Direct memory each writing thread holds for this volume, in bytes. */
    public long scratchBytesPerThread() {
        return StripeWriter.scratchBytes(chunk);
    }

    Layout layout() {
        return layout;
    }

    StripeLocks stripeLocks() {
        return locks;
    }

    BlockDevice member(int index) {
        return members[index];
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        int length = dst.remaining();
        checkRange(offset, length);
        int start = dst.position();
        int end = dst.limit();
        try {
            int at = start;
            long pos = offset;
            while (at < end) {
                int col = layout.offsetInChunk(pos);
                int len = Math.min(chunk - col, end - at);
                readChunk(dst, at, len, layout.stripeOf(pos), layout.dataIndexOf(pos), col);
                at += len;
                pos += len;
            }
        } finally {
            dst.limit(end).position(start);
        }
        dst.position(end);
    }

    /** One member read straight into {@code dst[at..+len)}; the place a degraded read branches. */
    private void readChunk(ByteBuffer dst, int at, int len, long stripe, int dataIndex, int col)
            throws IOException {
        StripeWriter.window(dst, at, len);
        members[layout.dataMember(stripe, dataIndex)].read(dst, layout.memberOffset(stripe, col));
    }

    @Override
    public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        int length = src.remaining();
        checkRange(offset, length);
        if (length == 0) {
            return;
        }
        int start = src.position();
        int end = src.limit();
        long first = offset / stripeDataSize;
        long last = (offset + length - 1) / stripeDataSize;
        long touched;
        locks.lock(first, last);
        try {
            touched = writeRange(src, start, offset, offset + length, false);
        } finally {
            locks.unlock(first, last);
            src.limit(end).position(start);
        }
        src.position(end);
        if (fua) {
            flushMembers(touched);
        }
    }

    /**
     * Writes volume bytes {@code [from, to)} stripe by stripe from {@code src[srcIndex..)}, or
     * zeroes if {@code src} is null. The caller holds the locks of every stripe in the range.
     */
    private long writeRange(ByteBuffer src, int srcIndex, long from, long to, boolean mayDeallocate)
            throws IOException {
        StripeWriter writer = writers.get();
        long touched = 0;
        long pos = from;
        int at = srcIndex;
        while (pos < to) {
            long stripe = pos / stripeDataSize;
            long stripeStart = stripe * stripeDataSize;
            int a = (int) (pos - stripeStart);
            int b = (int) Math.min(stripeDataSize, to - stripeStart);
            touched |= writer.write(src, at, stripe, a, b, mayDeallocate);
            at += b - a;
            pos = stripeStart + b;
        }
        return touched;
    }

    /**
     * Whole stripes become one {@code writeZeroes} per member (data and parity both zero, which
     * is correct parity); the partial stripes at either end go through the stripe writer.
     */
    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        checkRange(offset, length);
        if (length == 0) {
            return;
        }
        long end = offset + length;
        long first = offset / stripeDataSize;
        long last = (end - 1) / stripeDataSize;
        long fullFrom = ceilDiv(offset, stripeDataSize);
        long fullTo = end / stripeDataSize;
        long touched;
        locks.lock(first, last);
        try {
            if (fullFrom < fullTo) {
                touched = zeroWholeStripes(fullFrom, fullTo, mayDeallocate);
                touched |= writeRange(null, 0, offset, fullFrom * stripeDataSize, mayDeallocate);
                touched |= writeRange(null, 0, fullTo * stripeDataSize, end, mayDeallocate);
            } else {
                touched = writeRange(null, 0, offset, end, mayDeallocate);
            }
        } finally {
            locks.unlock(first, last);
        }
        if (fua) {
            flushMembers(touched);
        }
    }

    /**
     * TRIM is advisory, and the member contract lets a trimmed range read back as old contents
     * <em>or</em> zeroes, which would leave parity unknowable. So whole stripes are zeroed with
     * {@code writeZeroes(mayDeallocate=true)}, which frees space and guarantees zeroes; partial
     * stripes are left alone, since trimming part of a stripe would cost a parity update for
     * space the filesystem merely stopped using. The range reads back as zeroes (whole stripes)
     * or old contents (the ends), as {@link BlockDevice#trim} allows.
     */
    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        checkRange(offset, length);
        long fullFrom = ceilDiv(offset, stripeDataSize);
        long fullTo = (offset + length) / stripeDataSize;
        if (fullFrom >= fullTo) {
            return;
        }
        long touched;
        locks.lock(fullFrom, fullTo - 1);
        try {
            touched = zeroWholeStripes(fullFrom, fullTo, true);
        } finally {
            locks.unlock(fullFrom, fullTo - 1);
        }
        if (fua) {
            flushMembers(touched);
        }
    }

    /** Stripes {@code [from, to)} are contiguous on every member: one call per member. */
    private long zeroWholeStripes(long from, long to, boolean mayDeallocate) throws IOException {
        long memberOffset = layout.memberOffset(from, 0);
        long memberLength = (to - from) * chunk;
        for (BlockDevice m : members) {
            m.writeZeroes(memberOffset, memberLength, mayDeallocate, false);
        }
        return allMembers();
    }

    /**
     * Fast if every member zeroes its part of the touched stripes fast. The partial stripes at
     * either end cost at most two stripes of read-modify-write, a bounded amount of member I/O
     * that is still cheaper than the client sending the same zeroes over the network, which is
     * what {@code NBD_CMD_FLAG_FAST_ZERO} asks about.
     */
    @Override
    public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
        checkRange(offset, length);
        if (length == 0) {
            return true;
        }
        long first = offset / stripeDataSize;
        long last = (offset + length - 1) / stripeDataSize;
        long memberOffset = layout.memberOffset(first, 0);
        long memberLength = (last - first + 1) * chunk;
        for (BlockDevice m : members) {
            if (!m.zeroesFast(memberOffset, memberLength, mayDeallocate)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void flush() throws IOException {
        flushMembers(allMembers());
    }

    /** Flushes every member in the mask, all of them even if one fails; the first failure wins. */
    void flushMembers(long mask) throws IOException {
        IoFailures failures = new IoFailures();
        for (int i = 0; i < members.length; i++) {
            if ((mask & (1L << i)) != 0) {
                try {
                    members[i].flush();
                } catch (IOException e) {
                    failures.add(e);
                }
            }
        }
        failures.throwIfAny();
    }

    /** Closes every member, last slot first, keeping every failure. */
    @Override
    public void close() throws IOException {
        writers.remove();
        IoFailures.closeAll(java.util.Arrays.asList(members));
    }

    private long allMembers() {
        return members.length == 64 ? -1L : (1L << members.length) - 1;
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IllegalArgumentException("range [" + offset + ", +" + length + ") outside volume of " + size + " bytes");
        }
        if (offset % SECTOR != 0 || length % SECTOR != 0) {
            throw new IllegalArgumentException("range [" + offset + ", +" + length + ") not aligned to " + SECTOR + " bytes");
        }
    }

    private static long ceilDiv(long x, long y) {
        return -Math.floorDiv(-x, y);
    }

    @Override
    public String toString() {
        return describe();
    }
}
