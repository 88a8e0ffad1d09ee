package io.parityd.raid;

import io.parityd.block.BlockDevice;
import io.parityd.block.IoFailures;

import java.io.IOException;
import java.util.List;
import java.util.function.Supplier;

/**
 * What every {@link RaidVolume} shares whatever its level: the shape, the slots, the stripe
 * locks, request checks, flushing with failure marking, operator failing, and the running
 * rebuilds. {@link AbstractRaidVolume} holds one for both the striped and the mirrored volume and
 * delegates to it; the scrubs, degraded reads and rebuild sources read it too.
 */
final class VolumeCore {

    /** Request alignment: the NBD minimum block size we advertise. */
    static final int SECTOR = 512;

    final ArrayGeometry geometry;
    final Layout layout;
    final MemberSlots members;
    final StripeLocks locks;
    final SlotListener listener;
    final RebuildTuning tuning;
    /** Bytes per second each rebuild may write to its new device; 0: as fast as it can. */
    private volatile long rebuildRateLimit;
    /** Where degraded partial-stripe writes save their {@link Preimage}s; NONE until a journal asks. */
    volatile PreimageLog preimages = PreimageLog.NONE;
    final long size;
    final long stripeDataSize;
    final int chunk;
    final int redundancy;
    private final Rebuilder[] rebuilds;
    final MemberWatch watch;
    private boolean closed;
    /** Threads that flush members in parallel; made at the first flush of more than one member. */
    private java.util.concurrent.ExecutorService flushers;

    VolumeCore(ArrayGeometry geometry, MemberSlots members, StripeLocks locks, SlotListener listener,
               RebuildTuning tuning) {
        if (geometry.stripeDataSize() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("stripe of " + geometry.stripeDataSize() + " bytes is too large");
        }
        this.geometry = geometry;
        this.layout = new Layout(geometry);
        this.members = members;
        this.locks = locks;
        this.listener = listener;
        this.tuning = tuning;
        this.size = geometry.volumeSize();
        this.stripeDataSize = geometry.stripeDataSize();
        this.chunk = geometry.chunkSize();
        this.redundancy = geometry.redundancy();
        this.rebuilds = new Rebuilder[geometry.memberCount()];
        this.watch = new MemberWatch(geometry.name(), members);
    }

    String describe() {
        return "raid" + geometry.level() + ":" + geometry.name();
    }

    void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IllegalArgumentException("range [" + offset + ", +" + length + ") outside volume of " + size + " bytes");
        }
        if (offset % SECTOR != 0 || length % SECTOR != 0) {
            throw new IllegalArgumentException("range [" + offset + ", +" + length + ") not aligned to " + SECTOR + " bytes");
        }
    }

    long allSlots() {
        int n = geometry.memberCount();
        return n == 64 ? -1L : (1L << n) - 1;
    }

    /**
     * Flushes every slot in {@code mask} that still serves, all of them even if one fails. A
     * failing slot becomes faulty; the flush fails only if that leaves more slots down than the
     * level carries, since otherwise every acknowledged byte is durable on the survivors.
     */
    void flush(long mask) throws IOException {
        List<Integer> serving = new java.util.ArrayList<>();
        for (long m = mask & allSlots(); m != 0; m &= m - 1) {
            int slot = Long.numberOfTrailingZeros(m);
            MemberState state = members.state(slot);
            if (state == MemberState.ACTIVE || state == MemberState.REBUILDING) {
                serving.add(slot);
            }
        }
        IoFailures failures = flushAll(serving);
        if (failures.any() && members.downCount() > redundancy) {
            failures.throwIfAny();
        }
        members.awaitRecorded(mask);
    }

    /**
     * Flushes {@code slots} in parallel: each member's fdatasync waits for its own disk, so one
     * after another a FLUSH would cost the sum of their latencies instead of the longest (issue
     * 15). This thread takes the first slot itself.
     */
    private IoFailures flushAll(List<Integer> slots) {
        IoFailures failures = new IoFailures();
        if (slots.isEmpty()) {
            return failures;
        }
        List<java.util.concurrent.Future<IoFailures>> others = new java.util.ArrayList<>();
        for (int i = 1; i < slots.size(); i++) {
            int slot = slots.get(i);
            others.add(flushers().submit(() -> {
                IoFailures f = new IoFailures();
                members.flush(slot, f);
                return f;
            }));
        }
        members.flush(slots.get(0), failures);
        for (java.util.concurrent.Future<IoFailures> f : others) {
            try {
                IoFailures one = f.get();
                try {
                    one.throwIfAny();
                } catch (IOException e) {
                    failures.add(e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failures.add(new java.io.InterruptedIOException("interrupted while flushing the members"));
            } catch (java.util.concurrent.ExecutionException e) {
                failures.add(new IOException("flushing a member failed: " + e.getCause(), e.getCause()));
            }
        }
        return failures;
    }

    private synchronized java.util.concurrent.ExecutorService flushers() {
        if (flushers == null) {
            flushers = java.util.concurrent.Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "parityd-member-flush");
                t.setDaemon(true);
                return t;
            });
        }
        return flushers;
    }

    /**
     * Takes the locks of stripes {@code [first, last]} for a change, after the write intent has
     * counted it (and, while a slot is down, marked its regions durably).
     */
    void lockForChange(long first, long last) throws IOException {
        WriteIntent intent = members.intent();
        try {
            intent.enter(first, last);
        } finally {
            members.failPending(); // a member that could not take the mark; outside the intent's lock
        }
        try {
            locks.lock(first, last);
        } catch (RuntimeException | Error e) {
            intent.exit(first, last);
            throw e;
        }
    }

    /** Releases what {@link #lockForChange} took. */
    void unlockAfterChange(long first, long last) {
        locks.unlock(first, last);
        members.intent().exit(first, last);
    }

    void fail(int slot, IOException why) {
        checkSlot(slot);
        members.fail(slot, why);
    }

    void checkSlot(int slot) {
        if (slot < 0 || slot >= geometry.memberCount()) {
            throw new IllegalArgumentException("no slot " + slot + " in an array of " + geometry.memberCount());
        }
    }

    synchronized void rebuild(int slot, BlockDevice device, long fromStripe, RebuildSource source) {
        rebuild(slot, device, fromStripe, source, false);
    }

    /** @param onlyMarked rebuild only the regions the write intent marks (a re-add); else all of it */
    synchronized void rebuild(int slot, BlockDevice device, long fromStripe, RebuildSource source, boolean onlyMarked) {
        checkSlot(slot);
        if (closed) {
            throw new IllegalStateException("volume " + describe() + " is closed");
        }
        if (redundancy == 0) {
            throw new IllegalStateException("RAID-0 keeps no redundancy: slot " + slot + " cannot be rebuilt");
        }
        Rebuilder running = rebuilds[slot];
        if (running != null && running.running()) {
            throw new IllegalStateException("slot " + slot + " is already being rebuilt (" + running + ")");
        }
        members.startRebuild(slot, device, fromStripe);
        Rebuilder rebuilder = new Rebuilder(slot, fromStripe, geometry, members, locks, layout, source, listener,
                tuning, () -> rebuildRateLimit, onlyMarked);
        rebuilds[slot] = rebuilder;
        rebuilder.start();
    }

    /**
     * Starts the background work: the {@link MemberWatch}, and every rebuild the array was opened
     * with. Each rebuild gets its own source: a source holds scratch buffers, and two rebuild
     * threads sharing one would write each other's data.
     */
    void resumeRebuilds(Supplier<RebuildSource> sources) {
        watch.start();
        for (int slot = 0; slot < geometry.memberCount(); slot++) {
            if (members.state(slot) == MemberState.REBUILDING) {
                rebuild(slot, members.device(slot), members.rebuilt(slot), sources.get());
            }
        }
    }

    synchronized long rebuildPosition(int slot) {
        checkSlot(slot);
        Rebuilder r = rebuilds[slot];
        return r != null && r.running() ? r.position() : -1;
    }

    List<SlotView> slots() {
        return members.views();
    }

    /** Caps every rebuild, running or future, at this many bytes per second written; 0 lifts the cap. */
    void rebuildRateLimit(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("rebuild rate limit must not be negative: " + bytesPerSecond);
        }
        rebuildRateLimit = bytesPerSecond;
    }

    /**
     * Stops rebuilds (their positions stay with the listener) and refuses new ones; devices stay
     * open, so the owner can still flush and mark the array clean.
     */
    void stopRebuilds() {
        watch.stop();
        Rebuilder[] running;
        synchronized (this) {
            closed = true;
            running = rebuilds.clone();
        }
        for (Rebuilder r : running) {
            if (r != null) {
                r.stop();
            }
        }
    }

    /** Stops rebuilds, then closes every device. */
    void close() throws IOException {
        stopRebuilds();
        synchronized (this) {
            if (flushers != null) {
                flushers.shutdown();
            }
        }
        IoFailures.closeAll(members.allDevices());
    }
}
