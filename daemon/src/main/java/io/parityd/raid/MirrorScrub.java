package io.parityd.raid;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;

/**
 * Scrub for RAID-1: each chunk-sized row of every serving copy is compared with the first serving
 * copy, under the row's lock. Repair copies the first serving copy over the ones that differ (md
 * does the same: it cannot know which copy is right). A row with fewer than two serving copies is
 * counted as unchecked. Synchronized: one scrub at a time, with one buffer per copy.
 */
final class MirrorScrub {

    private final VolumeCore core;
    private final MemberSlots members;
    private final ByteBuffer[] copies;
    private long repairedSlots;

    MirrorScrub(VolumeCore core) {
        this.core = core;
        this.members = core.members;
        this.copies = new ByteBuffer[members.count()];
    }

    synchronized ScrubReport run(long fromStripe, long toStripe, boolean repair, int maxReported,
                                 ParityScrubber.Progress progress) throws IOException {
        ScrubTally tally = new ScrubTally(core.geometry, fromStripe, toStripe, maxReported);
        repairedSlots = 0;
        for (long s = fromStripe; s < toStripe; s++) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedIOException("scrub interrupted at stripe " + s);
            }
            tally.add(s, check(s, repair), repair);
            if (progress != null) {
                progress.update(s - fromStripe + 1, toStripe - fromStripe);
            }
        }
        core.flush(repairedSlots);
        return tally.report(repair);
    }

    private int check(long stripe, boolean repair) {
        long offset = core.layout.memberOffset(stripe, 0);
        core.locks.lock(stripe, stripe);
        try {
            for (int attempt = 0; ; attempt++) {
                members.checkRetries(attempt, stripe);
                long serving = core.allSlots() & ~members.unusable(stripe);
                if (Long.bitCount(serving) < 2) {
                    return ScrubTally.UNCHECKED;
                }
                if (readAll(serving, offset)) {
                    return compare(serving, offset, repair);
                }
            }
        } finally {
            core.locks.unlock(stripe, stripe);
        }
    }

    private boolean readAll(long serving, long offset) {
        for (long m = serving; m != 0; m &= m - 1) {
            int slot = Long.numberOfTrailingZeros(m);
            if (copies[slot] == null) {
                copies[slot] = StripeWriter.alignedDirect(core.chunk);
            }
            copies[slot].clear().limit(core.chunk);
            if (!members.read(slot, copies[slot], offset)) {
                return false;
            }
            copies[slot].clear().limit(core.chunk);
        }
        return true;
    }

    private int compare(long serving, long offset, boolean repair) {
        int reference = Long.numberOfTrailingZeros(serving);
        boolean mismatch = false;
        boolean repairFailed = false;
        for (long m = serving & (serving - 1); m != 0; m &= m - 1) {
            int slot = Long.numberOfTrailingZeros(m);
            if (copies[slot].mismatch(copies[reference]) < 0) {
                continue;
            }
            mismatch = true;
            if (repair) {
                copies[reference].clear().limit(core.chunk);
                if (members.write(slot, copies[reference], offset)) {
                    repairedSlots |= 1L << slot;
                } else {
                    repairFailed = true;
                }
                copies[reference].clear().limit(core.chunk);
            }
        }
        if (!mismatch) {
            return ScrubTally.MATCH;
        }
        return repair && !repairFailed ? ScrubTally.REPAIRED : ScrubTally.MISMATCH;
    }
}
