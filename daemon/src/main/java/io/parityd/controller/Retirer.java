package io.parityd.controller;

import io.parityd.block.BlockDevice;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalFormat;
import io.parityd.nvram.JournalMode;
import io.parityd.nvram.JournalStats;
import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the journal short: syncs the members and retires the records they now hold, from its own
 * thread. While requests wait for room it also keeps the front's {@link #admission()} closed, so
 * the front stops reading more (DESIGN.md "NVRAM": backpressure, never an error).
 *
 * <p>When. Always when requests wait for room, and at every FLUSH ({@link #flush}). A data
 * journal also when a quarter full, and a second after the last retire (like a filesystem's
 * commit interval: a crash leaves about a second of writes to redo). A commands journal holds no
 * data and every write's region stays marked until a member sync covered it, so its records cost
 * a recovery little beyond their marks: it retires when half its records are taken, when three
 * quarters of the marks are, once writes stopped for a second (an idle array then holds nothing,
 * as md marks itself clean after {@code safe_mode_delay}), past {@link #SYNCED_RECORDS} records
 * whatever a FLUSH's member sync already covered (once a second, no member sync of its own), and at most
 * {@link #COMMANDS_INTERVAL_NANOS} after the last retire. A member sync for its own sake writes
 * back what the page cache would have written later anyway, but while writes go on it costs them
 * a fifth of their rate on a 2-core host (measured): forcing one every second would put the
 * commands journal's price back where the data journal's was.
 */
final class Retirer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Retirer.class);
    private static final long TICK_MILLIS = 100;
    private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    /**
     * A commands journal's longest time between member syncs while writes go on: the kernel's own
     * writeback expires dirty pages after 30 s ({@code vm.dirty_expire_centisecs}), so by then the
     * sync finds little left to write.
     */
    static final long COMMANDS_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(30);

    /**
     * A commands journal holding this many records retires those a FLUSH's member sync already
     * covered, at most once a second, which costs only a journal sync. Without it they waited for the
     * next retire (up to {@link #COMMANDS_INTERVAL_NANOS}), and every one of them is read, and
     * its stripes resynced, by a promotion or a recovery: 20,000 of them made an HA promotion
     * take 500-700 ms instead of about 250 (measured, FailoverSoakIT).
     */
    static final long SYNCED_RECORDS = 1024;

    /** No write applied for this long: a commands journal retires everything and lets marks go. */
    static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** What a retire cycle does after the records retired: a commands journal clears idle marks. */
    @FunctionalInterface
    interface Cleaner {
        Cleaner NONE = through -> { };

        /** Every write with a journal seq up to {@code syncedThrough} is durable on the members. */
        void clean(long syncedThrough) throws IOException;
    }


    private final BlockDevice volume;
    private final Journal journal;
    private final Cleaner cleaner;
    private final ReentrantLock retiring = new ReentrantLock();
    /** FLUSHes waiting for a member sync that begins after they asked, by ask number. */
    private final java.util.TreeMap<Long, java.util.List<java.util.concurrent.CompletableFuture<Void>>> flushes =
            new java.util.TreeMap<>();
    private long flushAsks;
    /** FLUSH asks a completed member sync covered; under {@link #retiring}. */
    private long flushesServed;
    /**
     * Every record applied up to this seq is durable on the members; written under
     * {@link #retiring}. -1 until this controller's first member sync: marks it adopted from an
     * old primary ({@link DirtyRegions}) cover writes that only a sync of its own makes durable,
     * so the first retire always syncs and idle marks never go before it.
     */
    private volatile long syncedThrough = -1;
    /** Test hook: a retire that skips the member sync (DirtyRegions.Broken.CLEAR_BEFORE_SYNC). Never set in the daemon. */
    volatile boolean skipMemberSync;
    private final AdmissionGate admission = new AdmissionGate();
    private final ScheduledExecutorService thread;
    private volatile long lastRetireNanos = System.nanoTime();
    /** The applied seq the last tick saw, and when it changed: for a commands journal's idle retire. */
    private long lastApplied = -1;
    private long lastAppliedChangeNanos = System.nanoTime();
    private volatile long lastCleanNanos = System.nanoTime();
    /** Told the journal seq each retire reached (the controller maps it to the front's). */
    private final LongConsumer retired;

    Retirer(BlockDevice volume, Journal journal, LongConsumer retired) {
        this(volume, journal, retired, Cleaner.NONE);
    }

    Retirer(BlockDevice volume, Journal journal, LongConsumer retired, Cleaner cleaner) {
        this.volume = volume;
        this.journal = journal;
        this.retired = retired;
        this.cleaner = cleaner;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "parityd-retire");
            t.setDaemon(true);
            return t;
        });
        thread.scheduleWithFixedDelay(this::retireIfDue, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        journal.onSaturationChange(this::followSaturation);
    }

    /** Closed while the journal is full. */
    Admission admission() {
        return admission;
    }

    /**
     * Syncs the members (unless the last sync already covered every applied record and no FLUSH
     * waits) and retires every record applied before the sync began. Safe from any thread;
     * concurrent callers take turns.
     */
    void retireNow() throws IOException {
        retire(true);
    }

    /**
     * A member sync that covers everything applied when it begins, and every FLUSH asked by then;
     * idle marks may go after it. With {@code records}, the records it covered retire too (a
     * header sync and their removal); without, they wait for the next retire, which then needs no
     * member sync of its own: a FLUSH of a commands journal costs the member sync and nothing else.
     */
    private void retire(boolean records) throws IOException {
        retiring.lock();
        try {
            long asked;
            synchronized (flushes) {
                asked = flushAsks; // every FLUSH asked by now is covered by the sync below
            }
            long through = journal.appliedThrough(); // taken before the sync, so the sync covers it
            if (through > syncedThrough || asked > flushesServed) {
                try {
                    if (!skipMemberSync) {
                        volume.flush();
                    }
                } catch (IOException e) {
                    flushed(asked, e);
                    throw e;
                }
                syncedThrough = Math.max(syncedThrough, through);
                flushed(asked, null);
            }
            through = syncedThrough;
            if (skipMemberSync) {
                cleaner.clean(through); // broken on purpose: the retire's sync below makes the clearing durable
            }
            finish(through, records);
        } finally {
            retiring.unlock();
        }
    }

    /**
     * Retires the records a member sync (a FLUSH's) already covered, without another one: a
     * journal header sync and their removal. Returns whether there were any.
     */
    private boolean retireSynced() throws IOException {
        retiring.lock();
        try {
            if (syncedThrough <= journal.stats().retiredThrough()) {
                return false;
            }
            finish(syncedThrough, true);
            return true;
        } finally {
            retiring.unlock();
        }
    }

    /** After a member sync covered {@code through}: its records retire (with {@code records}), idle marks go. Under {@link #retiring}. */
    private void finish(long through, boolean records) throws IOException {
        if (records) {
            journal.retire(through);
            lastRetireNanos = System.nanoTime();
            retired.accept(journal.stats().retiredThrough());
        }
        lastCleanNanos = System.nanoTime();
        cleaner.clean(through);
    }

    /**
     * Completes after a member sync that began after this call (a FLUSH of a commands journal:
     * every write answered before it is on the members, and this makes them durable). Joins the
     * next member sync, which starts at once; concurrent FLUSHes share one. The records it covers
     * retire at the next retire, without another member sync.
     */
    java.util.concurrent.CompletableFuture<Void> flush() {
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        synchronized (flushes) {
            flushes.computeIfAbsent(++flushAsks, k -> new java.util.ArrayList<>()).add(done);
        }
        try {
            thread.execute(() -> {
                try {
                    retire(false);
                } catch (IOException | RuntimeException e) {
                    log.warn("syncing the members for a FLUSH failed: {}", e.toString());
                }
            });
        } catch (RejectedExecutionException e) {
            failFlushes(IoPool.shuttingDown());
        }
        return done;
    }

    /** Asks for a retire cycle now, not at the next tick (a FLUSH, or writes waiting for marks). */
    void soon() {
        try {
            thread.execute(this::retireOrFail);
        } catch (RejectedExecutionException e) {
            // closing: the controller retires everything itself; a FLUSH still waiting fails below
            failFlushes(IoPool.shuttingDown());
        }
    }

    private void retireOrFail() {
        try {
            retireNow();
        } catch (IOException | RuntimeException e) {
            log.warn("retiring journal records failed: {}", e.toString());
        }
    }

    private void flushed(long asked, IOException failure) {
        java.util.List<java.util.concurrent.CompletableFuture<Void>> done = new java.util.ArrayList<>();
        if (failure == null) {
            flushesServed = Math.max(flushesServed, asked);
        }
        synchronized (flushes) {
            var head = flushes.headMap(asked, true);
            head.values().forEach(done::addAll);
            head.clear();
        }
        for (var f : done) {
            if (failure == null) {
                f.complete(null);
            } else {
                f.completeExceptionally(IoPool.failure(failure, "flush", 0, 0));
            }
        }
    }

    private void failFlushes(Exception why) {
        java.util.List<java.util.concurrent.CompletableFuture<Void>> left = new java.util.ArrayList<>();
        synchronized (flushes) {
            flushes.values().forEach(left::addAll);
            flushes.clear();
        }
        left.forEach(f -> f.completeExceptionally(why));
    }

    /** Stops the background thread (a retire under way finishes); {@link #retireNow()} still works. */
    @Override
    public void close() throws InterruptedException {
        thread.shutdown();
        thread.awaitTermination(1, TimeUnit.MINUTES);
        failFlushes(IoPool.shuttingDown());
    }

    /**
     * Pauses or resumes the front after the journal's current state. Serialized and re-reading
     * the state, so notifications that race each other still leave the gate as the journal is.
     */
    private synchronized void followSaturation() {
        if (!journal.saturated()) {
            admission.resume();
            return;
        }
        admission.pause("the write journal " + journal.path() + " is full; waiting for records to retire");
        try {
            thread.execute(this::retireIfDue);
        } catch (RejectedExecutionException e) {
            // closing: the controller retires everything itself
        }
    }

    private void retireIfDue() {
        if (!admission.open() && !journal.saturated()) {
            followSaturation(); // a safety net: the gate never stays shut once the journal has room
        }
        try {
            JournalStats s = journal.stats();
            long now = System.nanoTime();
            long applied = journal.appliedThrough();
            if (applied != lastApplied) {
                lastApplied = applied;
                lastAppliedChangeNanos = now;
            }
            boolean commands = journal.mode() == JournalMode.COMMANDS;
            if (applied <= s.retiredThrough()) {
                if (s.marks() > 0 && syncedThrough >= 0 && now - lastCleanNanos >= INTERVAL_NANOS) {
                    // Nothing new on the members since the last sync, which covered it all: marks
                    // idle long enough may go without another one.
                    lastCleanNanos = now;
                    cleaner.clean(s.retiredThrough());
                }
                return;
            }
            if (commands && s.records() >= SYNCED_RECORDS && now - lastRetireNanos >= INTERVAL_NANOS
                    && retireSynced()) {
                return;
            }
            boolean due = s.waiting() > 0;
            if (commands) {
                due |= s.records() >= journal.recordsCap() / 2 || s.marks() >= JournalFormat.MAX_MARKS * 3L / 4
                        || now - lastAppliedChangeNanos >= IDLE_NANOS || now - lastRetireNanos >= COMMANDS_INTERVAL_NANOS;
            } else {
                due |= s.usedBytes() >= s.capacityBytes() / 4 || now - lastRetireNanos >= INTERVAL_NANOS;
            }
            if (due) {
                retireNow();
            }
        } catch (IOException | RuntimeException e) {
            // A member that cannot sync is marked faulty by the volume; the next tick tries again.
            log.warn("retiring journal records failed: {}", e.toString());
        }
    }
}
