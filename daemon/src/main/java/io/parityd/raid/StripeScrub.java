package io.parityd.raid;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;

/**
 * Checks, and optionally repairs, the parity of a striped volume stripe by stripe: the engine
 * behind {@code parityd scrub [--repair]} (DESIGN.md "RAID"), the analogue of md's
 * {@code check} / {@code repair}. G1 is stated in terms of it: after any crash, a full scrub
 * finds zero mismatches.
 *
 * <p>Each stripe is checked under its lock, so a scrub may run while clients write and never
 * sees a stripe half-written. Healthy: P (and Q) recomputed from the data and compared. RAID-6
 * with one slot down: the lost chunk is recovered (data from P) and the syndrome not used for
 * that is compared. With as many slots down as the level carries, or on RAID-0, nothing is left
 * to compare against: the stripe is counted as unchecked. A mismatch cannot say which chunk is
 * wrong; like md's repair, repair trusts the data and rewrites the parity, then flushes what it
 * rewrote. Synchronized: one scrub at a time per volume, with one set of buffers.
 */
final class StripeScrub {

    private final VolumeCore core;
    private final Layout layout;
    private final MemberSlots members;
    private StripeImage image;
    private ByteBuffer computed;
    private long repairedSlots;
    private boolean repairFailed;

    StripeScrub(VolumeCore core) {
        this.core = core;
        this.layout = core.layout;
        this.members = core.members;
    }

    synchronized ScrubReport run(long fromStripe, long toStripe, boolean repair, int maxReported,
                                 ParityScrubber.Progress progress) throws IOException {
        ScrubTally tally = new ScrubTally(core.geometry, fromStripe, toStripe, maxReported);
        if (image == null && layout.parityChunks() > 0) {
            image = StripeImage.scratch(layout);
            computed = StripeWriter.alignedDirect(core.chunk);
        }
        repairedSlots = 0;
        for (long s = fromStripe; s < toStripe; s++) {
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedIOException("scrub interrupted at stripe " + s);
            }
            tally.add(s, layout.parityChunks() == 0 ? ScrubTally.UNCHECKED : check(s, repair), repair);
            if (progress != null) {
                progress.update(s - fromStripe + 1, toStripe - fromStripe);
            }
        }
        // Repairs are made durable before the report claims them.
        core.flush(repairedSlots);
        return tally.report(repair);
    }

    private int check(long stripe, boolean repair) throws IOException {
        core.locks.lock(stripe, stripe);
        try {
            for (int attempt = 0; ; attempt++) {
                members.checkRetries(attempt, stripe);
                long lost = members.unusable(stripe);
                if (Long.bitCount(lost) >= core.redundancy) {
                    return ScrubTally.UNCHECKED;
                }
                long lostRoles = image.rolesOf(stripe, lost);
                if (!image.read(members, stripe, image.allRoles() & ~lostRoles, 0, core.chunk)) {
                    continue;
                }
                image.recover(lostRoles, 0, core.chunk, false);
                return compare(stripe, lostRoles, repair);
            }
        } finally {
            core.locks.unlock(stripe, stripe);
        }
    }

    /** Compares P unless it was lost or used to recover data, then Q unless lost. */
    private int compare(long stripe, long lostRoles, boolean repair) {
        int p = layout.roleP();
        int q = layout.roleQ();
        boolean dataLost = (lostRoles & image.dataMask()) != 0;
        boolean mismatch = false;
        repairFailed = false;
        if ((lostRoles & (1L << p)) == 0 && !dataLost) {
            image.computeP(computed, 0, 0, core.chunk);
            mismatch |= differs(stripe, p, repair);
        }
        if (layout.parityChunks() == 2 && (lostRoles & (1L << q)) == 0) {
            image.computeQ(computed, 0, 0, core.chunk);
            mismatch |= differs(stripe, q, repair);
        }
        if (!mismatch) {
            return ScrubTally.MATCH;
        }
        return repair && !repairFailed ? ScrubTally.REPAIRED : ScrubTally.MISMATCH;
    }

    /** True if {@code computed} differs from the stored {@code role}; rewrites it with repair. */
    private boolean differs(long stripe, int role, boolean repair) {
        ByteBuffer stored = image.buffer(role);
        int at = image.index(role, 0);
        computed.clear().limit(core.chunk);
        if (stored.slice(at, core.chunk).mismatch(computed) < 0) {
            return false;
        }
        if (repair) {
            int member = layout.memberOfRole(stripe, role);
            if (members.write(member, computed, layout.memberOffset(stripe, 0))) {
                repairedSlots |= 1L << member;
            } else {
                repairFailed = true;
            }
            computed.clear().limit(core.chunk);
        }
        return true;
    }
}
