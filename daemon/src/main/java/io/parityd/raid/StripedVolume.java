package io.parityd.raid;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * RAID-0, 4, 5 and 6 as one {@link RaidVolume}: data striped in chunks over the members with 0, 1
 * or 2 parity chunks per stripe ({@link Layout}). This is step 4 of "The write path": what the
 * primary does once a write is journaled. It takes the stripe locks, writes data and parity
 * ({@link StripeWriter}), and on FUA makes them durable.
 *
 * <p>Requests: offsets and lengths are multiples of {@value VolumeCore#SECTOR} inside
 * {@link #size()} (the front validates before calling; a violation here is a bug and throws
 * {@link IllegalArgumentException}). Like a channel, {@link #read} leaves {@code dst}'s position
 * at its limit and {@link #write} leaves {@code src}'s position at its limit.
 *
 * <p>Concurrency: any number of threads. A write, zeroing or trim locks every stripe it touches
 * for its whole duration ({@link StripeLocks}), so overlapping requests apply one after another
 * and parity always matches the data it was computed with. Reads of chunks on serving members
 * take no lock: each byte lives on exactly one member, and a read racing a write of the same
 * bytes may see either, as on a disk. A chunk whose member is down is reconstructed under the
 * stripe's lock ({@link DegradedReads}), since data and parity must be of one moment.
 *
 * <p>Memory: each writing thread gets its own {@link StripeWriter} ({@code (1 + parity chunks) ×
 * (chunk + 4 KiB)} of direct scratch: 136 KiB at a 64 KiB chunk for RAID-5), bounded by the I/O
 * pool size. A thread that reconstructs adds a chunk per role once. Healthy reads need none.
 *
 * <p>FUA: after the request's writes, and after its locks are released, each member the request
 * wrote is flushed once: FUA promises durability of this request, whose bytes live only there,
 * and holding the locks across an fdatasync would queue every other writer of those stripes
 * behind a disk sync.
 *
 * <p>Failures: see {@link RaidVolume}. This volume owns its members: {@link #close()} closes them.
 */
final class StripedVolume extends AbstractRaidVolume {

    private final Layout layout;
    private final ThreadLocal<StripeWriter> writers;
    private final DegradedReads degraded;
    private final StripeScrub scrub;

    StripedVolume(VolumeCore core) {
        super(core);
        this.layout = core.layout;
        this.writers = ThreadLocal.withInitial(() -> new StripeWriter(core));
        this.degraded = new DegradedReads(core);
        this.scrub = new StripeScrub(core);
    }

    /** Direct memory each writing thread holds for this volume up front, in bytes. */
    long scratchBytesPerThread() {
        return StripeWriter.scratchBytes(chunk, layout.parityChunks());
    }

    Layout layout() {
        return layout;
    }

    StripeLocks stripeLocks() {
        return locks;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        int length = dst.remaining();
        core.checkRange(offset, length);
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

    /** One member read straight into {@code dst[at..+len)}, or a reconstruction if it cannot serve. */
    private void readChunk(ByteBuffer dst, int at, int len, long stripe, int dataIndex, int col)
            throws IOException {
        int member = layout.dataMember(stripe, dataIndex);
        if (members.usable(member, stripe)) {
            StripeWriter.window(dst, at, len);
            if (members.read(member, dst, layout.memberOffset(stripe, col))) {
                return;
            }
        }
        degraded.read(dst, at, len, stripe, dataIndex, col);
    }

    @Override
    long writeLocked(ByteBuffer src, long offset, int length) throws IOException {
        return writeRange(writers.get(), src, src.position(), offset, offset + length, false);
    }

    @Override
    long skippedByWrite(long lastStripe) {
        return writers.get().takeSkipped();
    }

    /**
     * Writes volume bytes {@code [from, to)} stripe by stripe from {@code src[srcIndex..)}, or
     * zeroes if {@code src} is null. The caller holds the locks of every stripe in the range.
     */
    private long writeRange(StripeWriter writer, ByteBuffer src, int srcIndex, long from, long to,
                            boolean mayDeallocate) throws IOException {
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
    long zeroLocked(long offset, long length, boolean mayDeallocate) throws IOException {
        long end = offset + length;
        long fullFrom = ceilDiv(offset, stripeDataSize);
        long fullTo = end / stripeDataSize;
        StripeWriter writer = writers.get();
        if (fullFrom >= fullTo) {
            return writeRange(writer, null, 0, offset, end, mayDeallocate);
        }
        long touched = zeroStripes(fullFrom, fullTo, mayDeallocate);
        touched |= writeRange(writer, null, 0, offset, fullFrom * stripeDataSize, mayDeallocate);
        touched |= writeRange(writer, null, 0, fullTo * stripeDataSize, end, mayDeallocate);
        return touched;
    }

    /** The stripe writer's skipped slots at the ends, and the slots whole-stripe zeroing passed over. */
    @Override
    long skippedByZeroing(long lastStripe) {
        return writers.get().takeSkipped() | members.unusable(lastStripe);
    }

    /**
     * Stripes {@code [from, to)} are contiguous on every member: one call per serving member (a
     * rebuilding one only below its position, which cannot move while we hold these locks).
     */
    @Override
    long zeroStripes(long from, long to, boolean mayDeallocate) throws IOException {
        long lost = members.unusable(to - 1);
        if (Long.bitCount(lost) > core.redundancy) {
            throw Unrecoverable.stripes(layout.level(), from, to - 1, lost, core.redundancy);
        }
        long touched = 0;
        long failed = 0;
        for (int m = 0; m < members.count(); m++) {
            long end = members.state(m) == MemberState.REBUILDING ? Math.min(to, members.rebuilt(m)) : to;
            if (!members.usable(m, from) || end <= from) {
                continue;
            }
            long offset = layout.memberOffset(from, 0);
            if (members.writeZeroes(m, offset, (end - from) * chunk, mayDeallocate)) {
                touched |= 1L << m;
            } else {
                failed |= 1L << m;
            }
        }
        if (failed != 0 && Long.bitCount(lost | failed) > core.redundancy) {
            throw Unrecoverable.stripes(layout.level(), from, to - 1, lost | failed, core.redundancy);
        }
        return touched;
    }

    /**
     * Fast if every serving member zeroes its part of the touched stripes fast. The partial
     * stripes at either end cost at most two stripes of read-modify-write, a bounded amount of
     * member I/O that is still cheaper than the client sending the same zeroes over the network,
     * which is what {@code NBD_CMD_FLAG_FAST_ZERO} asks about.
     */
    @Override
    public boolean restoreParity(Preimage preimage) throws IOException {
        return ParityRestore.restore(core, preimage);
    }

    @Override
    public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
        core.checkRange(offset, length);
        if (length == 0) {
            return true;
        }
        long first = offset / stripeDataSize;
        long last = (offset + length - 1) / stripeDataSize;
        return servingMembersZeroFast(first, layout.memberOffset(first, 0), (last - first + 1) * chunk, mayDeallocate);
    }

    @Override
    RebuildSource rebuildSource() {
        return new StripedRebuild(core);
    }

    @Override
    public ScrubReport scrub(long fromStripe, long toStripe, boolean repair, int maxReported,
                             ParityScrubber.Progress progress) throws IOException {
        return scrub.run(fromStripe, toStripe, repair, maxReported, progress);
    }

    /** Also drops this thread's stripe writer. */
    @Override
    public void close() throws IOException {
        writers.remove();
        super.close();
    }
}
