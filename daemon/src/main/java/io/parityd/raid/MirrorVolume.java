package io.parityd.raid;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * RAID-1 as a {@link RaidVolume}: every member holds the whole volume at the same offsets
 * ({@link Layout}). A write goes to every copy that serves its stripes (a rebuilding copy below
 * its rebuild position), under the stripe locks so that copies never disagree about the order of
 * overlapping writes; it succeeds while at least one copy took all of it. A read goes to one
 * serving copy, round-robin, without locks (every copy holds the same bytes), and moves on to the
 * next copy if one fails. Stripes here are chunk-sized rows, for locks, rebuild positions and
 * scrub.
 *
 * <p>Same request rules as {@link StripedVolume}: sector-aligned, position consumed, FUA flushes
 * the written copies after the locks, and the volume owns and closes its members.
 */
final class MirrorVolume extends AbstractRaidVolume {

    private final AtomicInteger nextCopy = new AtomicInteger();
    private final MirrorScrub scrub;
    private final long dataOffset;

    MirrorVolume(VolumeCore core) {
        super(core);
        this.scrub = new MirrorScrub(core);
        this.dataOffset = core.geometry.dataOffset();
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        int length = dst.remaining();
        core.checkRange(offset, length);
        if (length == 0) {
            return;
        }
        long last = (offset + length - 1) / chunk;
        int start = dst.position();
        int n = members.count();
        int first = Math.floorMod(nextCopy.getAndIncrement(), n);
        for (int i = 0; i < n; i++) {
            int slot = first + i < n ? first + i : first + i - n;
            if (!members.usable(slot, last)) {
                continue;
            }
            dst.position(start);
            if (members.read(slot, dst, dataOffset + offset)) {
                return;
            }
        }
        dst.position(start);
        throw Unrecoverable.stripes(1, offset / chunk, last, members.unusable(last), core.redundancy);
    }

    @Override
    long writeLocked(ByteBuffer src, long offset, int length) throws IOException {
        return writeCopies(src, offset, length, false);
    }

    /** The copies unusable at the last stripe: a rebuild fills from stripe 0, so these include every earlier one's. */
    @Override
    long skippedByWrite(long lastStripe) {
        return members.unusable(lastStripe);
    }

    /**
     * Writes {@code [offset, offset+length)} (from {@code src}, or zeroes if null) to every copy
     * serving it: an ACTIVE copy entirely, a REBUILDING copy below its position. The caller holds
     * the stripe locks, so rebuild positions do not move meanwhile.
     */
    private long writeCopies(ByteBuffer src, long offset, long length, boolean mayDeallocate) throws IOException {
        long first = offset / chunk;
        long last = (offset + length - 1) / chunk;
        long touched = 0;
        boolean whole = false;
        int limit = src == null ? 0 : src.limit();
        for (int slot = 0; slot < members.count(); slot++) {
            if (!members.usable(slot, first)) {
                continue;
            }
            long covered = members.usable(slot, last) ? length
                    : Math.min(length, members.rebuilt(slot) * chunk - offset);
            boolean ok;
            if (src == null) {
                ok = members.writeZeroes(slot, dataOffset + offset, covered, mayDeallocate);
            } else {
                int at = src.position();
                src.limit(at + (int) covered);
                ok = members.write(slot, src, dataOffset + offset);
                src.limit(limit).position(at);
            }
            if (ok) {
                touched |= 1L << slot;
                whole |= covered == length;
            }
        }
        if (!whole) {
            throw Unrecoverable.stripes(1, first, last, members.unusable(last), core.redundancy);
        }
        return touched;
    }

    @Override
    long zeroLocked(long offset, long length, boolean mayDeallocate) throws IOException {
        return writeCopies(null, offset, length, mayDeallocate);
    }

    @Override
    long skippedByZeroing(long lastStripe) {
        return skippedByWrite(lastStripe);
    }

    /** Every copy zeroes the same rows, so that copies agree whatever a member's trim would leave. */
    @Override
    long zeroStripes(long from, long to, boolean mayDeallocate) throws IOException {
        return writeCopies(null, from * chunk, (to - from) * chunk, mayDeallocate);
    }

    @Override
    public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
        core.checkRange(offset, length);
        return servingMembersZeroFast(offset / chunk, dataOffset + offset, length, mayDeallocate);
    }

    @Override
    RebuildSource rebuildSource() {
        return this::fillFromCopy;
    }

    /** RAID-1 rebuild: the batch copied from a mirror that serves it, trying the next if one fails. */
    private boolean fillFromCopy(int slot, long from, long to, ByteBuffer target) throws IOException {
        for (int m = 0; m < members.count(); m++) {
            if (m == slot || !members.usable(m, to - 1)) {
                continue;
            }
            target.clear().limit((int) (to - from) * chunk);
            return members.read(m, target, dataOffset + from * chunk);
        }
        throw Unrecoverable.stripes(1, from, to - 1, members.unusable(to - 1) | 1L << slot, core.redundancy);
    }

    @Override
    public ScrubReport scrub(long fromStripe, long toStripe, boolean repair, int maxReported,
                             ParityScrubber.Progress progress) throws IOException {
        return scrub.run(fromStripe, toStripe, repair, maxReported, progress);
    }

    /** RAID-1 keeps no parity: a crash leaves copies that the redo rewrites, nothing to restore. */
    @Override
    public boolean restoreParity(Preimage preimage) throws IOException {
        throw new IOException("a preimage of stripe " + preimage.stripe() + " does not fit RAID-1, which keeps no parity");
    }
}
