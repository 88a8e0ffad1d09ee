package io.parityd.raid;

import io.parityd.block.BlockDevice;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks, and optionally repairs, the parity of a {@link Raid5Volume} stripe by stripe: the
 * engine behind {@code parityd scrub [--repair]} (DESIGN.md "RAID"), the analogue of md's
 * {@code check} / {@code repair} sync actions. The guarantee G1 is stated in terms of it: after
 * any crash, a full scrub finds zero mismatches.
 *
 * <p>Each stripe is checked under its stripe lock, so a scrub may run while the volume serves
 * writes and never sees a stripe half-written. Reads are one whole chunk per member per stripe
 * into two reused buffers. A mismatch cannot say which chunk is wrong; like md's repair, repair
 * trusts the data and rewrites parity from it, then flushes the members it rewrote.
 *
 * <p>A scrubber instance holds two chunk-sized buffers; use one per thread.
 */
public final class ParityScrubber {

    /** Mismatching stripe numbers a report lists unless told otherwise. */
    public static final int DEFAULT_MAX_REPORTED = 100;

    /** Told after every stripe, outside the stripe lock, so a CLI can draw a progress bar. */
    @FunctionalInterface
    public interface Progress {
        void update(long stripesDone, long stripesTotal);
    }

    private final Raid5Volume volume;
    private final Layout layout;
    private final StripeLocks locks;
    private final int chunk;
    private final ByteBuffer computed;
    private final ByteBuffer stored;

    public ParityScrubber(Raid5Volume volume) {
        this.volume = volume;
        this.layout = volume.layout();
        this.locks = volume.stripeLocks();
        this.chunk = layout.chunkSize();
        this.computed = ByteBuffer.allocateDirect(chunk + 4096).alignedSlice(4096).limit(chunk);
        this.stored = ByteBuffer.allocateDirect(chunk + 4096).alignedSlice(4096).limit(chunk);
    }

    /** Scrubs every stripe, listing up to {@link #DEFAULT_MAX_REPORTED} mismatches. */
    public ScrubReport scrub(boolean repair, Progress progress) throws IOException {
        return scrub(0, volume.geometry().stripes(), repair, DEFAULT_MAX_REPORTED, progress);
    }

    /**
     * Scrubs stripes {@code [fromStripe, toStripe)}.
     *
     * @param repair      rewrite the parity of mismatching stripes from their data
     * @param maxReported how many mismatching stripe numbers the report lists
     * @param progress    told after each stripe; may be null
     * @throws InterruptedIOException if the thread is interrupted; stripes done so far stay done
     */
    public ScrubReport scrub(long fromStripe, long toStripe, boolean repair, int maxReported, Progress progress)
            throws IOException {
        long stripes = volume.geometry().stripes();
        if (fromStripe < 0 || toStripe > stripes || fromStripe > toStripe || maxReported < 0) {
            throw new IllegalArgumentException("bad scrub range [" + fromStripe + ", " + toStripe
                    + ") of " + stripes + " stripes, maxReported " + maxReported);
        }
        List<Long> reported = new ArrayList<>();
        long mismatches = 0;
        long repairedMembers = 0;
        long total = toStripe - fromStripe;
        for (long s = fromStripe; s < toStripe; s++) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedIOException("scrub interrupted at stripe " + s);
            }
            if (!checkStripe(s, repair)) {
                mismatches++;
                if (reported.size() < maxReported) {
                    reported.add(s);
                }
                repairedMembers |= repair ? 1L << layout.parityMember(s) : 0;
            }
            if (progress != null) {
                progress.update(s - fromStripe + 1, total);
            }
        }
        // Repairs are made durable before the report claims them.
        volume.flushMembers(repairedMembers);
        return new ScrubReport(total, mismatches, reported, repair ? mismatches : 0);
    }

    /** Returns true if the stripe's parity matched; on a mismatch with repair, rewrites it. */
    private boolean checkStripe(long stripe, boolean repair) throws IOException {
        long offset = layout.memberOffset(stripe, 0);
        BlockDevice parityMember = volume.member(layout.parityMember(stripe));
        locks.lock(stripe, stripe);
        try {
            readChunk(computed, volume.member(layout.dataMember(stripe, 0)), offset);
            for (int d = 1; d < layout.dataChunks(); d++) {
                readChunk(stored, volume.member(layout.dataMember(stripe, d)), offset);
                Parity.xorInto(computed, 0, stored, 0, chunk);
            }
            readChunk(stored, parityMember, offset);
            computed.clear().limit(chunk);
            stored.clear().limit(chunk);
            if (computed.mismatch(stored) < 0) {
                return true;
            }
            if (repair) {
                parityMember.write(computed, offset, false);
            }
            return false;
        } finally {
            locks.unlock(stripe, stripe);
        }
    }

    private void readChunk(ByteBuffer buf, BlockDevice member, long offset) throws IOException {
        buf.clear().limit(chunk);
        member.read(buf, offset);
    }
}
