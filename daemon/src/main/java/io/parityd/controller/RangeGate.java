package io.parityd.controller;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Keeps overlapping writes reaching the volume in the order they were journaled.
 *
 * <p>Recovery redoes journal records in sequence order, so after a crash the last record
 * covering a byte decides its content. If two overlapping in-flight writes reached the members in
 * the other order, the live volume and a recovered one would disagree about which write won. So
 * each write {@link #register registers} its range under the same lock that gives it its
 * sequence numbers, and may touch the volume only once every earlier overlapping write has
 * {@link #release released}. Writes to disjoint ranges never wait for each other.
 *
 * <p>In flight is bounded by the front's limits, so the linear scan stays short.
 */
final class RangeGate {

    /** One registered write. */
    static final class Entry {
        private final long start;
        private final long end;
        private final CompletableFuture<Void> clear = new CompletableFuture<>();
        private final List<Entry> dependents = new ArrayList<>(1);
        private int waitingFor;
        private boolean released;

        private Entry(long start, long end) {
            this.start = start;
            this.end = end;
        }

        /** Completes when no earlier overlapping write is in flight. */
        CompletableFuture<Void> whenClear() {
            return clear;
        }

        private boolean overlaps(Entry other) {
            return start < other.end && other.start < end;
        }
    }

    private final LinkedHashSet<Entry> active = new LinkedHashSet<>();

    /** Registers {@code [offset, offset+length)} after every write registered so far. */
    synchronized Entry register(long offset, long length) {
        Entry e = new Entry(offset, offset + Math.max(length, 1));
        for (Entry earlier : active) {
            if (earlier.overlaps(e)) {
                earlier.dependents.add(e);
                e.waitingFor++;
            }
        }
        active.add(e);
        if (e.waitingFor == 0) {
            e.clear.complete(null);
        }
        return e;
    }

    /** The write is done with the volume (or failed); later overlapping writes may go. Idempotent. */
    void release(Entry e) {
        List<Entry> nowClear = new ArrayList<>();
        synchronized (this) {
            if (e.released) {
                return;
            }
            e.released = true;
            active.remove(e);
            for (Entry d : e.dependents) {
                if (--d.waitingFor == 0) {
                    nowClear.add(d);
                }
            }
        }
        nowClear.forEach(d -> d.clear.complete(null)); // outside the lock: completion runs callbacks
    }

    synchronized int inFlight() {
        return active.size();
    }
}
