package io.parityd.nvram;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The journal's room: data bytes and records held or reserved, against the capacity and the
 * records cap. Reservations that do not fit wait in FIFO order; while any waits the journal is
 * saturated, which the daemon turns into backpressure. Futures and listeners run outside the lock.
 */
final class Room {

    private record Waiter(int bytes, int records, CompletableFuture<Void> future) {
    }

    private final long capacityBytes;
    private final long recordsCap;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private long usedBytes;
    private long usedRecords;
    private IOException closed;

    Room(long capacityBytes, long recordsCap) {
        this.capacityBytes = capacityBytes;
        this.recordsCap = recordsCap;
    }

    CompletableFuture<Void> reserve(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative reservation: " + bytes);
        }
        int records = JournalFormat.piecesFor(bytes);
        CompletableFuture<Void> future = new CompletableFuture<>();
        boolean nowSaturated = false;
        synchronized (this) {
            if (closed != null) {
                future.completeExceptionally(closed);
                return future;
            }
            if (waiters.isEmpty() && fits(bytes, records)) {
                usedBytes += bytes;
                usedRecords += records;
                future.complete(null);
                return future;
            }
            waiters.addLast(new Waiter(bytes, records, future));
            nowSaturated = waiters.size() == 1;
        }
        if (nowSaturated) {
            tellListeners();
        }
        return future;
    }

    /**
     * Completes once every reservation made before this call was granted, taking no room itself:
     * a marker in the queue, granted in its turn.
     */
    CompletableFuture<Void> afterEarlierReservations() {
        CompletableFuture<Void> future = new CompletableFuture<>();
        synchronized (this) {
            if (closed != null) {
                future.completeExceptionally(closed);
                return future;
            }
            if (waiters.isEmpty()) {
                future.complete(null);
                return future;
            }
            waiters.addLast(new Waiter(0, 0, future)); // fits whenever it is first: no room taken
        }
        return future;
    }

    /** Counts room taken without a reservation (recovered requests). */
    synchronized void take(long bytes, long records) {
        usedBytes += bytes;
        usedRecords += records;
    }

    void release(long bytes, long records) {
        List<Waiter> admitted = new ArrayList<>();
        boolean drained;
        synchronized (this) {
            usedBytes -= bytes;
            usedRecords -= records;
            boolean hadWaiters = !waiters.isEmpty();
            while (!waiters.isEmpty() && fits(waiters.peekFirst().bytes(), waiters.peekFirst().records())) {
                Waiter w = waiters.pollFirst();
                usedBytes += w.bytes();
                usedRecords += w.records();
                admitted.add(w);
            }
            drained = hadWaiters && waiters.isEmpty();
        }
        admitted.forEach(w -> w.future().complete(null));
        if (drained) {
            tellListeners();
        }
    }

    /** A request bigger than the capacity gets in once nothing else is held. */
    private boolean fits(int bytes, int records) {
        boolean empty = usedBytes == 0 && usedRecords == 0;
        return empty || (usedBytes + bytes <= capacityBytes && usedRecords + records <= recordsCap);
    }

    synchronized boolean saturated() {
        return !waiters.isEmpty();
    }

    synchronized int waiting() {
        return waiters.size();
    }

    synchronized long usedBytes() {
        return usedBytes;
    }

    void onChange(Runnable listener) {
        listeners.add(listener);
    }

    /** Fails every waiting reservation and every later one. */
    void close(IOException why) {
        List<Waiter> failed;
        synchronized (this) {
            closed = why;
            failed = new ArrayList<>(waiters);
            waiters.clear();
        }
        failed.forEach(w -> w.future().completeExceptionally(why));
        if (!failed.isEmpty()) {
            tellListeners();
        }
    }

    private void tellListeners() {
        for (Runnable l : listeners) {
            l.run();
        }
    }
}
