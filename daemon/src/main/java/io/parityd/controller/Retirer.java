package io.parityd.controller;

import io.parityd.block.BlockDevice;
import io.parityd.nvram.Journal;
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
 * thread, when the journal is a quarter full, when requests wait for room, or a second after the
 * last retire (like a filesystem's commit interval, so a crash leaves about a second of writes to
 * redo). While requests wait for room it also keeps the front's {@link #admission()} closed, so
 * the front stops reading more (DESIGN.md "NVRAM": backpressure, never an error).
 */
final class Retirer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Retirer.class);
    private static final long TICK_MILLIS = 100;
    private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final BlockDevice volume;
    private final Journal journal;
    private final ReentrantLock retiring = new ReentrantLock();
    private final AdmissionGate admission = new AdmissionGate();
    private final ScheduledExecutorService thread;
    private volatile long lastRetireNanos = System.nanoTime();
    /** Told the journal seq each retire reached (the controller maps it to the front's). */
    private final LongConsumer retired;

    Retirer(BlockDevice volume, Journal journal, LongConsumer retired) {
        this.volume = volume;
        this.journal = journal;
        this.retired = retired;
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
     * Syncs the members and retires every record applied before the sync began. Safe from any
     * thread; concurrent callers take turns.
     */
    void retireNow() throws IOException {
        retiring.lock();
        try {
            long through = journal.appliedThrough(); // taken before the sync, so the sync covers it
            volume.flush();
            journal.retire(through);
            lastRetireNanos = System.nanoTime();
            retired.accept(journal.stats().retiredThrough());
        } finally {
            retiring.unlock();
        }
    }

    /** Stops the background thread (a retire under way finishes); {@link #retireNow()} still works. */
    @Override
    public void close() throws InterruptedException {
        thread.shutdown();
        thread.awaitTermination(1, TimeUnit.MINUTES);
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
            if (journal.appliedThrough() <= s.retiredThrough()) {
                return;
            }
            boolean due = s.waiting() > 0 || s.usedBytes() >= s.capacityBytes() / 4
                    || System.nanoTime() - lastRetireNanos >= INTERVAL_NANOS;
            if (due) {
                retireNow();
            }
        } catch (IOException | RuntimeException e) {
            // A member that cannot sync is marked faulty by the volume; the next tick tries again.
            log.warn("retiring journal records failed: {}", e.toString());
        }
    }
}
