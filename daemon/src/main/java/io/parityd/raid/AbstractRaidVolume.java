package io.parityd.raid;

import io.parityd.block.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The part of a {@link RaidVolume} that does not depend on the level: the request envelope of a
 * write or zeroing (range check, the stripe locks, the caller's buffer restored, failures recorded
 * before the ack, FUA), trim as zeroing of whole stripes, and the operator's calls, which go to the
 * {@link VolumeCore}. A subclass says how its level writes and zeroes stripes and where a rebuild
 * gets its data ({@link StripedVolume}, {@link MirrorVolume}).
 *
 * <p>A stripe here is {@link VolumeCore#stripeDataSize} volume bytes: the data chunks of one row
 * for the striped levels, one chunk-sized row for RAID-1.
 */
abstract class AbstractRaidVolume implements RaidVolume {

    final VolumeCore core;
    final MemberSlots members;
    final StripeLocks locks;
    final long stripeDataSize;
    final int chunk;

    AbstractRaidVolume(VolumeCore core) {
        this.core = core;
        this.members = core.members;
        this.locks = core.locks;
        this.stripeDataSize = core.stripeDataSize;
        this.chunk = core.chunk;
    }

    /**
     * Writes volume bytes {@code [offset, offset+length)} from {@code src[position..)}; the caller
     * holds the locks of every stripe they touch and restores {@code src} afterwards.
     *
     * @return bit mask of the members written, for a following FUA flush
     */
    abstract long writeLocked(ByteBuffer src, long offset, int length) throws IOException;

    /** Slots the last {@link #writeLocked} on this thread did not write because they were down. */
    abstract long skippedByWrite(long lastStripe);

    /**
     * Zeroes volume bytes {@code [offset, offset+length)}; the caller holds the locks of every
     * stripe they touch.
     *
     * @return bit mask of the members written, for a following FUA flush
     */
    abstract long zeroLocked(long offset, long length, boolean mayDeallocate) throws IOException;

    /** Slots the last {@link #zeroLocked} on this thread did not write because they were down. */
    abstract long skippedByZeroing(long lastStripe);

    /**
     * Zeroes whole stripes {@code [from, to)} on every member serving them; the caller holds their
     * locks.
     *
     * @return bit mask of the members written, for a following FUA flush
     */
    abstract long zeroStripes(long from, long to, boolean mayDeallocate) throws IOException;

    /** Where a rebuild of this level gets a slot's chunks. */
    abstract RebuildSource rebuildSource();

    @Override
    public void resumeRebuilds() {
        core.resumeRebuilds(this::rebuildSource);
    }

    @Override
    public void recordWritesWhileDegraded(WriteIntent intent) {
        members.attach(intent);
    }

    @Override
    public WriteIntent writeIntent() {
        return members.intent();
    }

    @Override
    public void reAdd(int slot, BlockDevice device) {
        core.rebuild(slot, device, 0, rebuildSource(), true);
    }

    @Override
    public void logPreimagesTo(PreimageLog log) {
        core.preimages = log;
    }

    @Override
    public final void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        int length = src.remaining();
        core.checkRange(offset, length);
        if (length == 0) {
            return;
        }
        int start = src.position();
        int end = src.limit();
        long first = offset / stripeDataSize;
        long last = (offset + length - 1) / stripeDataSize;
        long touched;
        core.lockForChange(first, last);
        try {
            touched = writeLocked(src, offset, length);
        } finally {
            core.unlockAfterChange(first, last);
            src.limit(end).position(start);
        }
        members.awaitRecorded(skippedByWrite(last));
        src.position(end);
        if (fua) {
            core.flush(touched);
        }
    }

    @Override
    public final void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        core.checkRange(offset, length);
        if (length == 0) {
            return;
        }
        long first = offset / stripeDataSize;
        long last = (offset + length - 1) / stripeDataSize;
        long touched;
        core.lockForChange(first, last);
        try {
            touched = zeroLocked(offset, length, mayDeallocate);
        } finally {
            core.unlockAfterChange(first, last);
        }
        acknowledge(skippedByZeroing(last), touched, fua);
    }

    /**
     * TRIM is advisory, and the member contract lets a trimmed range read back as old contents
     * <em>or</em> zeroes, which would leave parity unknowable and copies disagreeing. So whole
     * stripes are zeroed with {@code mayDeallocate}, which frees space and guarantees zeroes on
     * every member; partial stripes are left alone, since trimming part of a stripe would cost a
     * parity update for space the filesystem merely stopped using. The range reads back as zeroes
     * (whole stripes) or old contents (the ends), as {@link BlockDevice#trim} allows.
     */
    @Override
    public final void trim(long offset, long length, boolean fua) throws IOException {
        core.checkRange(offset, length);
        long from = ceilDiv(offset, stripeDataSize);
        long to = (offset + length) / stripeDataSize;
        if (from >= to) {
            return;
        }
        long touched;
        core.lockForChange(from, to - 1);
        try {
            touched = zeroStripes(from, to, true);
        } finally {
            core.unlockAfterChange(from, to - 1);
        }
        acknowledge(members.unusable(to - 1), touched, fua);
    }

    /**
     * The end of a change, after its locks are released: the failures of the slots it skipped are
     * recorded (else it must not be acknowledged), then FUA flushes each member it wrote once.
     */
    final void acknowledge(long skipped, long touched, boolean fua) throws IOException {
        members.awaitRecorded(skipped);
        if (fua) {
            core.flush(touched);
        }
    }

    /** True if every member serving {@code stripe} zeroes its {@code [memberOffset, +memberLength)} fast. */
    final boolean servingMembersZeroFast(long stripe, long memberOffset, long memberLength, boolean mayDeallocate) {
        for (int m = 0; m < members.count(); m++) {
            if (members.usable(m, stripe) && !members.device(m).zeroesFast(memberOffset, memberLength, mayDeallocate)) {
                return false;
            }
        }
        return true;
    }

    static long ceilDiv(long x, long y) {
        return -Math.floorDiv(-x, y);
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
        core.rebuild(slot, device, fromStripe, rebuildSource());
    }

    @Override
    public long rebuildPosition(int slot) {
        return core.rebuildPosition(slot);
    }

    @Override
    public void rebuildRateLimit(long bytesPerSecond) {
        core.rebuildRateLimit(bytesPerSecond);
    }

    @Override
    public void stopRebuilds() {
        core.stopRebuilds();
    }

    /** Stops rebuilds, then closes every member, last slot first, keeping every failure. */
    @Override
    public void close() throws IOException {
        core.close();
    }

    @Override
    public String toString() {
        return describe();
    }
}
