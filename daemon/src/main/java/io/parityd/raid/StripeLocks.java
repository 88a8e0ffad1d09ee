package io.parityd.raid;

import java.util.concurrent.locks.ReentrantLock;

/**
 * Per-stripe mutual exclusion for the write path (DESIGN.md "RAID": overlapping requests
 * serialize on per-stripe locks; others run in parallel). A request locks every stripe it
 * touches for its whole duration, so two overlapping multi-stripe writes never interleave stripe
 * by stripe, and a scrub or rebuild that holds a stripe sees its data and parity agree.
 *
 * <p>A fixed table of locks, indexed by {@code stripe mod slots}, stands in for one lock per
 * stripe: memory stays bounded whatever the volume size, and the lock path allocates nothing.
 * Two stripes {@code slots} apart share a lock, which costs only false sharing between requests
 * that far apart. A range locks its distinct slots in ascending slot order (a range that wraps
 * around the table takes {@code [0, last]} then {@code [first, slots)}; one as long as the table
 * takes all of it). Every request acquires in that one global order, so none can deadlock.
 *
 * <p>Locks are reentrant and owned by the locking thread: {@link #unlock} must be called by the
 * thread that called {@link #lock} with the same range, in a {@code finally}.
 */
public final class StripeLocks {

    /** Enough slots that random small writes on a busy array rarely collide by accident. */
    public static final int DEFAULT_SLOTS = 4096;

    private final ReentrantLock[] locks;
    private final int mask;

    public StripeLocks(int slots) {
        if (slots < 1 || Integer.bitCount(slots) != 1) {
            throw new IllegalArgumentException("slots must be a power of two: " + slots);
        }
        this.locks = new ReentrantLock[slots];
        for (int i = 0; i < slots; i++) {
            locks[i] = new ReentrantLock();
        }
        this.mask = slots - 1;
    }

    public StripeLocks() {
        this(DEFAULT_SLOTS);
    }

    /** Size of the table. */
    public int slots() {
        return locks.length;
    }

    /** Blocks until every stripe in {@code [firstStripe, lastStripe]} is held by this thread. */
    public void lock(long firstStripe, long lastStripe) {
        checkRange(firstStripe, lastStripe);
        if (lastStripe - firstStripe >= mask) {
            lockSlots(0, mask);
            return;
        }
        int first = (int) (firstStripe & mask);
        int last = (int) (lastStripe & mask);
        if (first <= last) {
            lockSlots(first, last);
        } else {
            lockSlots(0, last);
            lockSlots(first, mask);
        }
    }

    /** Releases what {@link #lock} with the same range took, in reverse order. */
    public void unlock(long firstStripe, long lastStripe) {
        checkRange(firstStripe, lastStripe);
        if (lastStripe - firstStripe >= mask) {
            unlockSlots(0, mask);
            return;
        }
        int first = (int) (firstStripe & mask);
        int last = (int) (lastStripe & mask);
        if (first <= last) {
            unlockSlots(first, last);
        } else {
            unlockSlots(first, mask);
            unlockSlots(0, last);
        }
    }

    /** True if this thread holds the lock covering {@code stripe}; for assertions and tests. */
    public boolean isHeldByCurrentThread(long stripe) {
        return locks[(int) (stripe & mask)].isHeldByCurrentThread();
    }

    /** True if some thread waits for the lock covering {@code stripe}; lets tests see blocking. */
    boolean hasWaiters(long stripe) {
        return locks[(int) (stripe & mask)].hasQueuedThreads();
    }

    private void lockSlots(int from, int to) {
        for (int i = from; i <= to; i++) {
            locks[i].lock();
        }
    }

    private void unlockSlots(int from, int to) {
        for (int i = to; i >= from; i--) {
            locks[i].unlock();
        }
    }

    private static void checkRange(long firstStripe, long lastStripe) {
        if (firstStripe < 0 || lastStripe < firstStripe) {
            throw new IllegalArgumentException("bad stripe range [" + firstStripe + ", " + lastStripe + "]");
        }
    }
}
