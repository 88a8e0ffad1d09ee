package io.parityd.nvram;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;

/**
 * Durability of appended records (Journal "Group commit"): tracks the contiguous appended prefix,
 * and one thread syncs whenever someone waits for a record the prefix now covers (or for a sync
 * outright, {@link #afterNextSync}), at the end of each batch (LMAX end-of-batch: the batch is
 * whatever arrived while the previous sync ran). Records nobody waits for are not synced for
 * their own sake: a commands journal's records are covered by durable marks, and syncing each one
 * would put a disk flush behind every write. With a non-volatile placement there is no thread: the
 * prefix is durable as soon as it is appended. A sync that fails fails everything after it; it is
 * never retried.
 */
final class GroupCommit {

    /** Makes the file durable through {@code through} (header write, force, hook). */
    interface Syncer {
        void sync(long through) throws IOException;
    }

    private record Waiter(long seq, CompletableFuture<Void> future) {
    }

    private final SeqPrefix appended;
    private final Syncer syncer;
    private final PriorityQueue<Waiter> waiters = new PriorityQueue<>((a, b) -> Long.compare(a.seq, b.seq));
    /** Changes outside the sequence (marks) waiting for a sync, by the request count they were asked at. */
    private final PriorityQueue<Waiter> syncWaiters = new PriorityQueue<>((a, b) -> Long.compare(a.seq, b.seq));
    /** Syncs asked for by {@link #afterNextSync}; guarded by this. */
    private long requested;
    /** Of those, how many a completed sync covered; guarded by this. */
    private long served;
    private final Thread thread;
    private volatile long durable;
    private IOException failure;
    private boolean stopping;

    GroupCommit(long through, boolean nonVolatile, Syncer syncer) {
        this.appended = new SeqPrefix(through);
        this.durable = through;
        this.syncer = syncer;
        if (nonVolatile) {
            thread = null;
        } else {
            thread = new Thread(this::run, "parityd-journal-sync");
            thread.setDaemon(true);
            thread.start();
        }
    }

    long appendedThrough() {
        return appended.through();
    }

    long durableThrough() {
        return durable;
    }

    /** Records {@code [first, last]} are in the map. */
    void appended(long first, long last) {
        long before = appended.through();
        long after = appended.mark(first, last);
        if (after == before) {
            return;
        }
        if (thread == null) {
            completeThrough(after);
        } else {
            synchronized (this) {
                // Wake the sync thread only for a waiter this append lets it serve: a commands
                // journal's records usually have none, and a wake-up per write (a context switch
                // each) cost a tenth of the daemon's CPU under random writes.
                if (!waiters.isEmpty() && waiters.peek().seq <= after) {
                    notifyAll();
                }
            }
        }
    }

    CompletableFuture<Void> whenDurable(long seq) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        synchronized (this) {
            if (failure != null) {
                future.completeExceptionally(failure);
            } else if (seq <= durable) {
                future.complete(null);
            } else {
                waiters.add(new Waiter(seq, future));
                notifyAll(); // the sync thread syncs only for a waiter
            }
        }
        return future;
    }

    /**
     * Completes after a sync that began after this call: for a change made outside the sequence of
     * records (a dirty-region mark), which the caller made before calling. At once when the
     * placement is non-volatile. Joins the next group commit, or starts one.
     */
    CompletableFuture<Void> afterNextSync() {
        CompletableFuture<Void> future = new CompletableFuture<>();
        if (thread == null) {
            future.complete(null);
            return future;
        }
        synchronized (this) {
            if (failure != null) {
                future.completeExceptionally(failure);
            } else {
                requested++;
                syncWaiters.add(new Waiter(requested, future));
                notifyAll();
            }
        }
        return future;
    }

    private void run() {
        while (true) {
            long asked;
            synchronized (this) {
                while (!stopping && !waitedFor() && requested <= served) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                if (stopping) {
                    return;
                }
                asked = requested;
            }
            long through = appended.through();
            try {
                syncer.sync(through);
            } catch (IOException | RuntimeException e) {
                fail(new IOException("journal sync failed: " + e.getMessage(), e));
                return;
            }
            completeThrough(through);
            completeRequests(asked);
        }
    }

    /** Someone waits for a record the appended prefix covers and no sync covered yet. Holding this. */
    private boolean waitedFor() {
        long through = appended.through();
        return through > durable && !waiters.isEmpty() && waiters.peek().seq <= through;
    }

    /** Every sync request up to {@code asked} was made before the sync that just completed. */
    private void completeRequests(long asked) {
        List<Waiter> done = new ArrayList<>();
        synchronized (this) {
            if (failure != null) {
                return;
            }
            served = Math.max(served, asked);
            while (!syncWaiters.isEmpty() && syncWaiters.peek().seq <= asked) {
                done.add(syncWaiters.poll());
            }
        }
        done.forEach(w -> w.future.complete(null));
    }

    private void completeThrough(long through) {
        List<Waiter> done = new ArrayList<>();
        synchronized (this) {
            if (through <= durable || failure != null) {
                return;
            }
            durable = through;
            while (!waiters.isEmpty() && waiters.peek().seq <= through) {
                done.add(waiters.poll());
            }
        }
        done.forEach(w -> w.future.complete(null));
    }

    /** Fails every waiting and later {@link #whenDurable}; the first failure is the one kept. */
    void fail(IOException why) {
        List<Waiter> failed;
        synchronized (this) {
            if (failure == null) {
                failure = why;
            }
            failed = new ArrayList<>(waiters);
            waiters.clear();
            failed.addAll(syncWaiters);
            syncWaiters.clear();
            stopping = true;
            notifyAll();
        }
        failed.forEach(w -> w.future.completeExceptionally(why));
    }

    /** Stops the thread, letting a sync under way finish. */
    void stop() {
        synchronized (this) {
            stopping = true;
            notifyAll();
        }
        if (thread != null && thread != Thread.currentThread()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
