package io.parityd.protocol;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A fixed amount of {@link PayloadMemory} shared by every connection of a server. A single request
 * larger than the whole budget is let through when nothing else holds memory, so it is never
 * refused forever; otherwise use never exceeds the capacity. Thread-safe.
 *
 * <p>Small requests keep moving while large ones wait: a request over {@link #SMALL} bytes may
 * fill only seven eighths of the budget, so the last eighth is always there for the 4 KiB reads
 * and writes of other clients (a filesystem's metadata, a database's log) while a few clients
 * stream 32 MiB writes. Measured before this: a 4 KiB read behind 15 waiting 32 MiB writers
 * waited 8.8 s.
 */
public final class PayloadBudget implements PayloadMemory {

    /** The largest request that may use the eighth kept for small ones. */
    public static final long SMALL = 1 << 20;

    private final long capacity;
    private final long largeLimit;
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    private long used;
    private long peak;
    private long waits;

    public PayloadBudget(long capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("a payload budget must be positive, not " + capacity);
        }
        this.capacity = capacity;
        this.largeLimit = capacity - capacity / 8;
    }

    /**
     * The default budget for a process whose direct memory is limited to {@code maxDirect} bytes
     * and whose largest request is {@code maxRequest} bytes: half the direct memory (the rest is
     * for the journal, the links and the sockets' own buffers), but room for at least two of the
     * largest requests.
     */
    public static long defaultCapacity(long maxDirect, long maxRequest) {
        return Math.max(maxDirect / 2, 2 * maxRequest);
    }

    @Override
    public synchronized boolean reserve(long bytes, Runnable whenFree) {
        if (bytes <= 0) {
            return true;
        }
        long limit = bytes <= SMALL ? capacity : largeLimit;
        if (used + bytes <= limit || used == 0) {
            used += bytes;
            peak = Math.max(peak, used);
            return true;
        }
        waiting.add(whenFree);
        waits++;
        return false;
    }

    @Override
    public void release(long bytes) {
        if (bytes <= 0) {
            return;
        }
        List<Runnable> wake;
        synchronized (this) {
            used -= bytes;
            if (used < 0) {
                throw new IllegalStateException("released " + bytes + " bytes more than were reserved");
            }
            wake = new ArrayList<>(waiting);
            waiting.clear();
        }
        // Every waiter asks again; those that still do not fit wait again, in the order they ask.
        wake.forEach(Runnable::run);
    }

    public long capacity() {
        return capacity;
    }

    public synchronized long used() {
        return used;
    }

    /** The most ever reserved at once. */
    public synchronized long peak() {
        return peak;
    }

    /** Connections waiting for memory now. */
    public synchronized int waiting() {
        return waiting.size();
    }

    /** Times a reservation had to wait, since the start. */
    public synchronized long waits() {
        return waits;
    }
}
