package io.parityd.raid;

import io.parityd.block.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
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
final class MirrorVolume implements RaidVolume {

    private final VolumeCore core;
    private final MemberSlots members;
    private final StripeLocks locks;
    private final AtomicInteger nextCopy = new AtomicInteger();
    private final MirrorScrub scrub;
    private final long dataOffset;
    private final int chunk;

    MirrorVolume(VolumeCore core) {
        this.core = core;
        this.members = core.members;
        this.locks = core.locks;
        this.scrub = new MirrorScrub(core);
        this.dataOffset = core.geometry.dataOffset();
        this.chunk = core.chunk;
    }

    void resumeRebuilds() {
        core.resumeRebuilds(this::fillFromCopy);
    }

    @Override
    public String describe() {
        return core.describe();
    }

    @Override
    public long size() {
        return core.size;
    }

    @Override
    public ArrayGeometry geometry() {
        return core.geometry;
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
    public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        int length = src.remaining();
        core.checkRange(offset, length);
        if (length == 0) {
            return;
        }
        int start = src.position();
        int end = src.limit();
        long touched;
        long first = offset / chunk;
        long last = (offset + length - 1) / chunk;
        locks.lock(first, last);
        try {
            touched = writeCopies(src, offset, length, false);
        } finally {
            locks.unlock(first, last);
            src.limit(end).position(start);
        }
        members.awaitRecorded(members.unusable(last));
        src.position(end);
        if (fua) {
            core.flush(touched);
        }
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
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        core.checkRange(offset, length);
        if (length == 0) {
            return;
        }
        zero(offset, length, mayDeallocate, fua);
    }

    private void zero(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        long first = offset / chunk;
        long last = (offset + length - 1) / chunk;
        long touched;
        locks.lock(first, last);
        try {
            touched = writeCopies(null, offset, length, mayDeallocate);
        } finally {
            locks.unlock(first, last);
        }
        members.awaitRecorded(members.unusable(last));
        if (fua) {
            core.flush(touched);
        }
    }

    /**
     * Whole chunk-sized rows are zeroed on every copy with {@code mayDeallocate}: a member's own
     * trim may leave old contents on one copy and zeroes on another, and copies must agree. Partial
     * rows are left alone, as on the striped levels; {@link BlockDevice#trim} allows both.
     */
    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        core.checkRange(offset, length);
        long from = -Math.floorDiv(-offset, chunk) * chunk;
        long to = (offset + length) / chunk * chunk;
        if (from < to) {
            zero(from, to - from, true, fua);
        }
    }

    @Override
    public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
        core.checkRange(offset, length);
        for (int slot = 0; slot < members.count(); slot++) {
            if (members.usable(slot, offset / chunk)
                    && !members.device(slot).zeroesFast(dataOffset + offset, length, mayDeallocate)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void flush() throws IOException {
        core.flush(core.allSlots());
    }

    @Override
    public List<SlotView> slots() {
        return core.slots();
    }

    @Override
    public int failedSlots() {
        return members.failedCount();
    }

    @Override
    public int redundancy() {
        return core.redundancy;
    }

    @Override
    public void fail(int slot, IOException why) {
        core.fail(slot, why);
    }

    @Override
    public void rebuild(int slot, BlockDevice device, long fromStripe) {
        core.rebuild(slot, device, fromStripe, this::fillFromCopy);
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
    public long rebuildPosition(int slot) {
        return core.rebuildPosition(slot);
    }

    @Override
    public ScrubReport scrub(long fromStripe, long toStripe, boolean repair, int maxReported,
                             ParityScrubber.Progress progress) throws IOException {
        return scrub.run(fromStripe, toStripe, repair, maxReported, progress);
    }

    @Override
    public void rebuildRateLimit(long bytesPerSecond) {
        core.rebuildRateLimit(bytesPerSecond);
    }

    @Override
    public void stopRebuilds() {
        core.stopRebuilds();
    }

    @Override
    public void close() throws IOException {
        core.close();
    }

    @Override
    public String toString() {
        return describe();
    }
}
