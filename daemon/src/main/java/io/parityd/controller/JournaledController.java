package io.parityd.controller;

import io.netty.buffer.ByteBuf;
import io.parityd.block.BlockDevice;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalFormat;
import io.parityd.nvram.RecordKind;
import io.parityd.nvram.Ticket;
import io.parityd.nvram.WriteFlags;
import io.parityd.raid.Preimage;
import io.parityd.raid.RaidVolume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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
 *  front ──► reserve room ──► seqs + range registered ──► record appended ──► reply to the client
 *              (waits while the journal is full)        (appender thread)      (FUA: once durable)
 *                                                              │
 *                              durable (group commit) and earlier overlapping writes done
 *                                                              ▼
 *                      data and parity written to the members (I/O thread) ──► applied ──► retired later
 * </pre>
 *
 * <p><b>When a write is answered.</b> Like a controller with a battery-backed write cache: once
 * its record is in the journal. The journal is a memory-mapped file, so from that moment the
 * write survives a crash of this process (kill -9 included) and is redone at the next start. It
 * survives a power loss once the journal's sync covers it, which is what FUA waits for, and what
 * a FLUSH waits for on behalf of every write answered before it (NBD's and the kernel's
 * contract: without FLUSH or FUA a disk may lose a written block at power loss, never a flushed
 * one). Members are only ever written after the sync, so a power loss can never leave them with a
 * write the journal cannot redo. A read waits for earlier overlapping writes to reach the
 * volume, so it always sees what was acknowledged.
 *
 * <p><b>Failures after the reply.</b> A write the volume then fails (more members lost than the
 * level carries) cannot be reported to its client any more; it is logged, and the next FLUSH
 * fails with EIO, as Linux reports a failed write-back at fsync.
 *
 * <p><b>Retiring.</b> Records leave only after the members were synced with them on: in the
 * background ({@link Retirer}, which also closes the front's admission while the journal is
 * full), and at close.
 */
public final class JournaledController implements NumberedController {

    private static final Logger log = LoggerFactory.getLogger(JournaledController.class);

    private final BlockDevice volume;
    private final Journal journal;
    private final IoPool io;
    /** Numbers and journals requests, one at a time, in the order their room was granted (Request#append). */
    private final java.util.concurrent.ExecutorService appender;
    private final RangeGate gate = new RangeGate();
    /** Sequence numbers and gate registration are taken together, so both orders agree. */
    private final Object order = new Object();
    private final Retirer retirer;

    private final ReentrantLock state = new ReentrantLock();
    private final Condition drained = state.newCondition();
    private int inFlight;
    private boolean closed;
    /** The last sequence number given out; a FLUSH waits for the journal to be durable through it. */
    private long lastBegun;
    /** A write that failed after its reply, until a FLUSH reports it. */
    private final AtomicReference<RequestFailedException> writeBackFailure = new AtomicReference<>();
    /** The request an I/O thread is applying to the volume: the owner of the preimages it saves. */
    private final ThreadLocal<Request> applying = new ThreadLocal<>();
    /** Volume bytes per stripe, for a preimage record's offset; 0 if the volume has no stripes. */
    private final long stripeBytes;

    /** What differs in HA mode: when to answer, what a member write waits for, whom to tell of retirement. */
    private final Replication replication;
    /** Journal seq of each request's last record → the front's seq for it (HA), for {@link Replication#retiredThrough}. */
    private final ConcurrentSkipListMap<Long, Long> frontSeqs = new ConcurrentSkipListMap<>();

    /**
     * Single-process mode ({@link Replication#NONE}).
     *
     * @param volume    the volume; still owned (and closed) by the caller
     * @param journal   opened, and already replayed by the caller (its plan is not looked at here);
     *                  {@link #close()} closes it cleanly
     * @param ioThreads threads doing blocking I/O
     */
    public JournaledController(BlockDevice volume, Journal journal, int ioThreads) {
        this(volume, journal, ioThreads, Replication.NONE);
    }

    /** As {@link #JournaledController(BlockDevice, Journal, int)}, with the HA primary's {@code replication}. */
    public JournaledController(BlockDevice volume, Journal journal, int ioThreads, Replication replication) {
        this.volume = volume;
        this.journal = journal;
        this.replication = replication;
        this.io = new IoPool(ioThreads);
        this.appender = IoPool.appender();
        this.lastBegun = journal.plan().lastSeq();
        this.retirer = new Retirer(volume, journal, this::retiredThrough);
        if (volume instanceof RaidVolume raid) {
            // Degraded stripes need their lost chunks saved before each write (Preimage says why).
            this.stripeBytes = raid.geometry().stripeDataSize();
            raid.logPreimagesTo(this::savePreimage);
        } else {
            this.stripeBytes = 0;
        }
    }

    /**
     * Journals a degraded stripe's preimage and waits until it is durable, on the I/O thread that
     * applies its request, under the stripe's lock. It takes room at once: its own request holds
     * retirement back until it is applied, so waiting for room here could wait forever. That is
     * at most a few chunks per I/O thread past the capacity. Its aux is the owning request's
     * first seq: recovery uses a preimage only while that request is pending.
     */
    private void savePreimage(Preimage preimage) throws IOException {
        Request owner = applying.get();
        if (owner == null) {
            throw new IllegalStateException("stripe " + preimage.stripe() + " written outside a journaled request");
        }
        ByteBuffer bytes = preimage.encode();
        int size = bytes.remaining();
        // The owner's key: the front's seq in HA mode (the same on both controllers), else its
        // journal seq. The replay matches preimages to pending requests by it.
        long ownerKey = owner.seq > 0 ? owner.seq : owner.ticket.firstSeq();
        CompletableFuture<Void> standby = replication.preimage(ownerKey, preimage.stripe() * stripeBytes, bytes);
        journal.admitNow(size);
        Ticket ticket = journal.begin(size);
        journal.append(ticket, RecordKind.PREIMAGE, preimage.stripe() * stripeBytes, size, 0, ownerKey, bytes);
        try {
            journal.whenDurable(ticket.lastSeq()).get();
            standby.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for the preimage of stripe " + preimage.stripe(), e);
        } catch (ExecutionException e) {
            throw new IOException("the preimage of stripe " + preimage.stripe() + " could not be made durable: "
                    + e.getCause().getMessage(), e.getCause());
        } finally {
            // Nothing waits on it being applied: it only has to stay until its request retires.
            journal.applied(ticket);
        }
    }

    @Override
    public long size() {
        return volume.size();
    }

    @Override
    public Admission admission() {
        return retirer.admission();
    }

    /**
     * Reads wait for earlier overlapping writes to reach the volume: a write is acknowledged once
     * journaled, possibly before the members have it.
     */
    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        int length = dst.remaining();
        RangeGate.Entry entry;
        synchronized (order) {
            entry = gate.register(offset, length);
        }
        CompletableFuture<Void> done = entry.whenClear().thenCompose(v ->
                io.submit(() -> volume.read(dst, offset), "read", offset, length));
        done.whenComplete((v, err) -> gate.release(entry));
        return done;
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuf data, boolean fua) {
        return write(0, offset, data, fua);
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly,
                                               boolean fua) {
        return writeZeroes(0, offset, length, mayDeallocate, fastOnly, fua);
    }

    @Override
    public CompletableFuture<Void> trim(long offset, long length, boolean fua) {
        return trim(0, offset, length, fua);
    }

    /**
     * A WRITE the front numbered {@code seq} (HA; 0 in single-process mode), kept in its records'
     * aux so a restarted or promoted controller knows which of the front's requests it holds.
     * Requests must arrive here in the front's order: they take journal sequence numbers in the
     * order they get room, which is the order they arrive (room is granted first come, first
     * served), so both controllers of a pair redo overlapping writes in the same order.
     */
    @Override
    public CompletableFuture<Void> write(long seq, long offset, ByteBuf data, boolean fua) {
        int length = data.readableBytes();
        // A reference of our own, not a copy: the write is answered once journaled and the front
        // then lets go of the buffer, but it stays valid until the volume has it (issue 15).
        return journaled(seq, RecordKind.WRITE, offset, length, fua ? WriteFlags.FUA : 0,
                data.retainedDuplicate(), bytes -> volume.write(bytes, offset, false), "write");
    }

    /** As {@link #write(long, long, ByteBuf, boolean)}, for WRITE_ZEROES. */
    @Override
    public CompletableFuture<Void> writeZeroes(long seq, long offset, long length, boolean mayDeallocate,
                                               boolean fastOnly, boolean fua) {
        int flags = WriteFlags.of(fua, mayDeallocate, false);
        Apply apply = none -> volume.writeZeroes(offset, length, mayDeallocate, false);
        if (!fastOnly) {
            return journaled(seq, RecordKind.WRITE_ZEROES, offset, length, flags, null, apply, "write-zeroes");
        }
        // Asked before anything is journaled, so a refused fast zero changes nothing anywhere.
        // (HA: the front sends fast zeroes to the primary alone, so this wait reorders nothing.)
        return io.submit(() -> {
            if (!volume.zeroesFast(offset, length, mayDeallocate)) {
                throw LocalController.notFast(offset, length);
            }
        }, "write-zeroes", offset, length).thenCompose(v ->
                journaled(seq, RecordKind.WRITE_ZEROES, offset, length, flags, null, apply, "write-zeroes"));
    }

    /** As {@link #write(long, long, ByteBuf, boolean)}, for TRIM. */
    @Override
    public CompletableFuture<Void> trim(long seq, long offset, long length, boolean fua) {
        return journaled(seq, RecordKind.TRIM, offset, length, fua ? WriteFlags.FUA : 0, null,
                none -> volume.trim(offset, length, false), "trim");
    }

    /** After a retire through journal seq {@code local}: tells the replication which front seq that was. */
    private void retiredThrough(long local) {
        Map.Entry<Long, Long> last = frontSeqs.floorEntry(local);
        if (last == null) {
            return;
        }
        frontSeqs.headMap(local, true).clear();
        replication.retiredThrough(last.getValue());
    }

    /**
     * Completes once every write acknowledged before it is durable, which the journal's sync
     * makes so; the members are synced and records retired in the background. Fails with EIO if
     * a write acknowledged since the last FLUSH could not be written to the volume.
     */
    @Override
    public CompletableFuture<Void> flush() {
        long through;
        synchronized (order) {
            through = lastBegun;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        journal.whenDurable(through).whenComplete((v, err) -> {
            RequestFailedException lost = writeBackFailure.getAndSet(null);
            if (err != null) {
                done.completeExceptionally(IoPool.failure(err, "flush", 0, 0));
            } else if (lost != null) {
                done.completeExceptionally(lost);
            } else {
                done.complete(null);
            }
        });
        return done;
    }

    /**
     * Completes once every request submitted before this call is durable in the journal (a
     * standby joining in HA mode copies the journal from that point). Room is granted first come,
     * first served, and each request is numbered as its room is granted, so once every earlier
     * reservation was granted, they are all numbered.
     */
    @Override
    public CompletableFuture<Void> journaledSoFar() {
        return journal.afterEarlierReservations()
                .thenComposeAsync(v -> {
                    long through;
                    synchronized (order) {
                        through = lastBegun;
                    }
                    return journal.whenDurable(through);
                }, appender); // behind every append handed over before: they have begun
    }

    /** Syncs the members and retires every record applied before the sync began (see {@link Retirer}). */
    public void retireNow() throws IOException {
        retirer.retireNow();
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
        retirer.close();
        appender.shutdown();
        appender.awaitTermination(1, TimeUnit.MINUTES);
        io.close();
        retireNow();
        journal.closeClean();
    }

    /** As {@link #awaitIdle()}, for at most {@code millis}; false if requests are still under way. */
    boolean awaitIdle(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        state.lock();
        try {
            while (inFlight > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                drained.awaitNanos(left);
            }
            return true;
        } finally {
            state.unlock();
        }
    }

    /** Waits until every request taken so far has reached the volume (tests: a quiet point). */
    void awaitIdle() throws InterruptedException {
        state.lock();
        try {
            while (inFlight > 0) {
                drained.await();
            }
        } finally {
            state.unlock();
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

    /** What a request does to the volume once its record is durable: given a view of the data it holds. */
    @FunctionalInterface
    private interface Apply {
        void run(ByteBuffer data) throws IOException;
    }

    /**
     * One journaled request on its way. {@code done} (the client's reply) completes once: when the
     * record is appended (or durable, for FUA), or with the error that stopped it before that. The
     * request leaves ({@link #exit()}) once: when the volume has it, or it failed.
     */
    private final class Request {
        final RecordKind kind;
        final long offset;
        final long length;
        final int flags;
        /** The request's own reference to its payload (null for none), released when it leaves. */
        final ByteBuf payload;
        /** A view of {@link #payload}'s bytes. */
        final ByteBuffer data;
        final Apply apply;
        final String what;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        Ticket ticket;
        RangeGate.Entry entry;

        /** The front's number for this request (HA), else 0. */
        final long seq;

        Request(long seq, RecordKind kind, long offset, long length, int flags, ByteBuf payload, Apply apply,
                String what) {
            this.seq = seq;
            this.kind = kind;
            this.offset = offset;
            this.length = length;
            this.flags = flags;
            this.payload = payload;
            this.data = payload == null ? null : Payloads.nio(payload);
            this.apply = apply;
            this.what = what;
        }

        void start() {
            journal.reserve(data == null ? 0 : data.remaining()).whenComplete((v, err) -> {
                if (err != null) {
                    fail(err);
                } else {
                    onAppender(this::append);
                }
            });
        }

        /**
         * Numbers the request and writes its records, on the appender thread. Handed over as room
         * is granted (first come, first served) to the one thread that does this, the journal's
         * order is the order requests arrived in; and since that thread never waits for anything,
         * a ticket begun is always appended at once (an I/O thread can wait on durability while
         * saving a preimage, and durability waits for every ticket begun before).
         */
        private void append() {
            int bytes = data == null ? 0 : data.remaining();
            synchronized (order) {
                ticket = journal.begin(bytes);
                entry = gate.register(offset, length);
                lastBegun = ticket.lastSeq();
                if (seq > 0) {
                    frontSeqs.put(ticket.lastSeq(), seq);
                }
            }
            try {
                journal.append(ticket, kind, offset, length, flags, seq, data == null ? null : data.duplicate());
                if (seq > 0) {
                    replication.record(seq, kind, offset, length, flags,
                            payload == null ? null : payload.retainedDuplicate());
                }
            } catch (IOException | RuntimeException | OutOfMemoryError e) {
                fail(e);
                return;
            }
            CompletableFuture<Void> durable = journal.whenDurable(ticket.lastSeq());
            journal.countWrite(!durable.isDone());
            if (replication.answerWhenApplied()) {
                // HA: answered by applyToVolume, once the members have it
            } else if ((flags & WriteFlags.FUA) != 0) {
                durable.whenComplete((v, err) -> {
                    if (err != null) {
                        done.completeExceptionally(IoPool.failure(err, what, offset, length));
                    } else {
                        done.complete(null); // FUA: the durable record is what makes the write durable
                    }
                });
            } else {
                done.complete(null); // in the journal: survives a crash of this process from now on
            }
            CompletableFuture.allOf(durable, entry.whenClear(), replication.mayApply(seq)).whenComplete((v, err) -> {
                if (err != null) {
                    failBeforeMembers(err); // the journal failed, or the standby: the members must not be touched
                } else {
                    onIo(this::applyToVolume);
                }
            });
        }

        /** Nothing reached the members: the client hears of it if not answered yet, else the next FLUSH. */
        private void failBeforeMembers(Throwable e) {
            if (replication.answerWhenApplied()) {
                journal.applied(ticket); // never applied, never will be: its record must not hold retirement forever
                fail(e);
            } else {
                writeBackFailed(e);
            }
        }

        private void applyToVolume() {
            applying.set(this);
            Throwable failed = null;
            try {
                apply.run(data == null ? null : data.duplicate());
            } catch (Throwable e) {
                failed = e;
            } finally {
                applying.remove();
                // Applied even when the volume failed: it did what it could (a request that loses
                // redundancy beyond the level fails, and redoing it would fail the same way); a
                // record that never retired would stop the journal for good.
                journal.applied(ticket);
            }
            if (failed != null) {
                if (replication.answerWhenApplied()) {
                    fail(failed); // HA: not answered yet, so the client hears of it
                } else {
                    writeBackFailed(failed);
                }
                return;
            }
            if (replication.answerWhenApplied()) {
                done.complete(null);
            }
            leave();
        }

        private void onAppender(Runnable step) {
            try {
                appender.execute(step);
            } catch (RejectedExecutionException e) {
                step.run(); // cannot happen while this request is in flight; never leave room granted and unused
            }
        }

        private void onIo(Runnable step) {
            try {
                io.execute(step);
            } catch (RejectedExecutionException e) {
                fail(IoPool.shuttingDown());
            }
        }

        /** Failed before the client was answered: the client hears of it. */
        private void fail(Throwable e) {
            if (done.completeExceptionally(IoPool.failure(e, what, offset, length))) {
                leave();
            } else {
                writeBackFailed(e);
            }
        }

        /** Failed after the client was answered: the next FLUSH hears of it, as with a disk's write cache. */
        private void writeBackFailed(Throwable e) {
            RequestFailedException f = IoPool.failure(e, what + " (already acknowledged)", offset, length);
            log.error("{} of {} bytes at offset {} could not be written after it was acknowledged: {};"
                    + " the next FLUSH fails with EIO", what, length, offset, f.getMessage());
            writeBackFailure.compareAndSet(null, f);
            leave();
        }

        private void leave() {
            if (entry != null) {
                gate.release(entry);
            }
            if (payload != null) {
                payload.release();
            }
            exit();
        }
    }

    /** Takes ownership of {@code payload} (null for none). */
    private CompletableFuture<Void> journaled(long seq, RecordKind kind, long offset, long length, int flags,
                                              ByteBuf payload, Apply apply, String what) {
        if (!enter()) {
            if (payload != null) {
                payload.release();
            }
            return CompletableFuture.failedFuture(IoPool.shuttingDown());
        }
        Request r = new Request(seq, kind, offset, length, flags, payload, apply, what);
        r.start();
        return r.done;
    }
}
