package io.parityd.controller;

import io.parityd.block.BlockDevice;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalFormat;
import io.parityd.nvram.RecordKind;
import io.parityd.nvram.Ticket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller of single-process mode: every WRITE, TRIM and WRITE_ZEROES goes through the
 * NVRAM journal before any member is touched (DESIGN.md "The write path"), so a crash at any
 * step can be redone and parity never lies afterwards.
 *
 * <pre>
 *  front ──► reserve room ──► seqs + range registered ──► records appended ──► durable (group commit)
 *                (waits while the journal is full)       (I/O thread)             │
 *                                                   earlier overlapping writes done┤
 *                                                                                  ▼
 *  front ◄── reply ◄── applied in the journal ◄── data and parity written to the members (I/O thread)
 * </pre>
 *
 * <p><b>FUA.</b> A request's journal record is durable before it reaches any member, and recovery
 * redoes it after any crash, so the record is what makes a FUA write durable; the members are
 * written without FUA and synced in the background. Likewise a FLUSH is satisfied for every
 * completed write by the journal alone; it also syncs the members and retires their records,
 * which is what keeps the journal short.
 *
 * <p><b>Retiring.</b> Records leave only after the members were synced with them on
 * ({@link #retireNow()}): at a FLUSH, at close, and from a background thread when the journal is
 * a quarter full, when requests wait for room, or a second after the last retire — like a
 * filesystem's commit interval, so a crash never leaves more than about a second of writes to redo.
 *
 * <p>Reads go straight to the volume: a write is applied to it before it is acknowledged.
 */
public final class JournaledController implements Controller {

    private static final Logger log = LoggerFactory.getLogger(JournaledController.class);
    private static final long RETIRE_TICK_MILLIS = 100;
    private static final long RETIRE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final BlockDevice volume;
    private final Journal journal;
    private final IoPool io;
    private final RangeGate gate = new RangeGate();
    /** Sequence numbers and gate registration are taken together, so both orders agree. */
    private final Object order = new Object();
    private final ReentrantLock retireLock = new ReentrantLock();
    private final ScheduledExecutorService retirer;
    /** Closed while requests wait for journal room, so the front stops reading more (DESIGN.md "NVRAM"). */
    private final AdmissionGate admission = new AdmissionGate();

    private final ReentrantLock state = new ReentrantLock();
    private final Condition drained = state.newCondition();
    private int inFlight;
    private boolean closed;
    private volatile long lastRetireNanos = System.nanoTime();

    /**
     * @param volume    the volume; still owned (and closed) by the caller
     * @param journal   opened, and already replayed by the caller (its plan is not looked at here);
     *                  {@link #close()} closes it cleanly
     * @param ioThreads threads doing blocking I/O
     */
    public JournaledController(BlockDevice volume, Journal journal, int ioThreads) {
        this.volume = volume;
        this.journal = journal;
        this.io = new IoPool(ioThreads);
        this.retirer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "parityd-retire");
            t.setDaemon(true);
            return t;
        });
        retirer.scheduleWithFixedDelay(this::retireIfDue, RETIRE_TICK_MILLIS, RETIRE_TICK_MILLIS, TimeUnit.MILLISECONDS);
        journal.onSaturationChange(this::followSaturation);
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
            retirer.execute(this::retireIfDue);
        } catch (RejectedExecutionException e) {
            // closing: close() retires everything itself
        }
    }

    @Override
    public long size() {
        return volume.size();
    }

    @Override
    public Admission admission() {
        return admission;
    }

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        return io.submit(() -> volume.read(dst, offset), "read", offset, dst.remaining());
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuffer data, boolean fua) {
        int length = data.remaining();
        return journaled(RecordKind.WRITE, offset, length, fua ? JournalFormat.FLAG_FUA : 0, data,
                () -> volume.write(data.duplicate(), offset, false), "write");
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly,
                                               boolean fua) {
        int flags = (fua ? JournalFormat.FLAG_FUA : 0) | (mayDeallocate ? JournalFormat.FLAG_MAY_DEALLOCATE : 0);
        IoPool.Op apply = () -> volume.writeZeroes(offset, length, mayDeallocate, false);
        if (!fastOnly) {
            return journaled(RecordKind.WRITE_ZEROES, offset, length, flags, null, apply, "write-zeroes");
        }
        // Asked before anything is journaled, so a refused fast zero changes nothing anywhere.
        return io.submit(() -> {
            if (!volume.zeroesFast(offset, length, mayDeallocate)) {
                throw LocalController.notFast(offset, length);
            }
        }, "write-zeroes", offset, length).thenCompose(v ->
                journaled(RecordKind.WRITE_ZEROES, offset, length, flags, null, apply, "write-zeroes"));
    }

    @Override
    public CompletableFuture<Void> trim(long offset, long length, boolean fua) {
        return journaled(RecordKind.TRIM, offset, length, fua ? JournalFormat.FLAG_FUA : 0, null,
                () -> volume.trim(offset, length, false), "trim");
    }

    @Override
    public CompletableFuture<Void> flush() {
        return io.submit(this::retireNow, "flush", 0, 0);
    }

    /**
     * Syncs the members and retires every record applied before the sync began. Safe from any
     * thread; concurrent callers take turns.
     */
    public void retireNow() throws IOException {
        retireLock.lock();
        try {
            long through = journal.appliedThrough(); // taken before the sync, so the sync covers it
            volume.flush();
            journal.retire(through);
            lastRetireNanos = System.nanoTime();
        } finally {
            retireLock.unlock();
        }
    }

    /**
     * Stops taking requests, waits for those under way, syncs the members, retires every record
     * and closes the journal cleanly (its clean-shutdown marker says nothing needs redoing).
     */
    @Override
    public void close() throws IOException, InterruptedException {
        state.lock();
        try {
            closed = true;
            while (inFlight > 0) {
                if (!drained.await(1, TimeUnit.MINUTES)) {
                    log.warn("{} requests still in flight after a minute; waiting on", inFlight);
                }
            }
        } finally {
            state.unlock();
        }
        retirer.shutdown();
        retirer.awaitTermination(1, TimeUnit.MINUTES);
        io.close();
        retireNow();
        journal.closeClean();
    }

    /** Requests between {@code write} and their reply; for tests and status. */
    int inFlight() {
        state.lock();
        try {
            return inFlight;
        } finally {
            state.unlock();
        }
    }

    private void retireIfDue() {
        if (!admission.open() && !journal.saturated()) {
            followSaturation(); // a safety net: the gate never stays shut once the journal has room
        }
        try {
            var s = journal.stats();
            if (journal.appliedThrough() <= s.retiredThrough()) {
                return;
            }
            boolean due = s.waiting() > 0 || s.usedBytes() >= s.capacityBytes() / 4
                    || System.nanoTime() - lastRetireNanos >= RETIRE_INTERVAL_NANOS;
            if (due) {
                retireNow();
            }
        } catch (IOException | RuntimeException e) {
            // A member that cannot sync is marked faulty by the volume; the next tick tries again.
            log.warn("retiring journal records failed: {}", e.toString());
        }
    }

    private boolean enter() {
        state.lock();
        try {
            if (closed) {
                return false;
            }
            inFlight++;
            return true;
        } finally {
            state.unlock();
        }
    }

    private void exit() {
        state.lock();
        try {
            if (--inFlight == 0) {
                drained.signalAll();
            }
        } finally {
            state.unlock();
        }
    }

    /** One journaled request on its way; completes {@code done} exactly once and leaves once. */
    private final class Request {
        final RecordKind kind;
        final long offset;
        final long length;
        final int flags;
        final ByteBuffer data;
        final IoPool.Op apply;
        final String what;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        Ticket ticket;
        RangeGate.Entry entry;

        Request(RecordKind kind, long offset, long length, int flags, ByteBuffer data, IoPool.Op apply, String what) {
            this.kind = kind;
            this.offset = offset;
            this.length = length;
            this.flags = flags;
            this.data = data;
            this.apply = apply;
            this.what = what;
        }

        void start() {
            int bytes = data == null ? 0 : data.remaining();
            journal.reserve(bytes).whenComplete((v, err) -> {
                if (err != null) {
                    fail(err);
                } else {
                    onIo(this::append);
                }
            });
        }

        private void append() {
            int bytes = data == null ? 0 : data.remaining();
            synchronized (order) {
                ticket = journal.begin(bytes);
                entry = gate.register(offset, length);
            }
            try {
                journal.append(ticket, kind, offset, length, flags, 0, data == null ? null : data.duplicate());
            } catch (IOException | RuntimeException e) {
                fail(e);
                return;
            }
            CompletableFuture.allOf(journal.whenDurable(ticket.lastSeq()), entry.whenClear()).whenComplete((v, err) -> {
                if (err != null) {
                    fail(err); // the journal failed: the member must not be touched
                } else {
                    onIo(this::applyToVolume);
                }
            });
        }

        private void applyToVolume() {
            Throwable failure = null;
            try {
                apply.run();
            } catch (Throwable e) {
                failure = e;
            }
            // Applied even when the volume failed: it did what it could (a request that loses
            // redundancy beyond the level fails, and redoing it would fail the same way); a record
            // that never retired would stop the journal for good.
            journal.applied(ticket);
            if (failure != null) {
                fail(failure);
            } else {
                gate.release(entry);
                exit();
                done.complete(null);
            }
        }

        private void onIo(Runnable step) {
            try {
                io.execute(step);
            } catch (RejectedExecutionException e) {
                fail(IoPool.shuttingDown());
            }
        }

        private void fail(Throwable e) {
            if (entry != null) {
                gate.release(entry);
            }
            exit();
            done.completeExceptionally(IoPool.failure(e, what, offset, length));
        }
    }

    private CompletableFuture<Void> journaled(RecordKind kind, long offset, long length, int flags, ByteBuffer data,
                                              IoPool.Op apply, String what) {
        if (!enter()) {
            return CompletableFuture.failedFuture(IoPool.shuttingDown());
        }
        Request r = new Request(kind, offset, length, flags, data, apply, what);
        r.start();
        return r.done;
    }
}
