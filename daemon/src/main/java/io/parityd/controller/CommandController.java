package io.parityd.controller;

import io.netty.buffer.ByteBuf;
import io.parityd.block.BlockDevice;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalFormat;
import io.parityd.nvram.JournalMode;
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
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The controller of a {@link JournalMode#COMMANDS} journal, the default (DESIGN.md "The write
 * path", issue 15): the patent's write path. The NVRAM holds each unfinished write's command
 * (where and how much, never the data) and durable dirty-region marks; the data stays in the
 * front's buffer, which it keeps until the write is answered.
 *
 * <pre>
 *  front ──► room for a record ──► command appended, regions marked ──► (HA: the standby holds the command)
 *                                    (appender thread, in the order room was granted)
 *                                        │ marks durable (almost always already)
 *                                        ▼
 *            data and parity written to the members (I/O thread; FUA: durable on them)
 *                                        ▼
 *            applied ──► the client is answered ──► retired after the next member sync
 * </pre>
 *
 * <p><b>What holds.</b> Before any member is modified for a write, a durable record names a range
 * that covers it: its region's mark (and, once retired, the member sync that covered it). A crash
 * of this process leaves the commands of the writes under way in the map; a power loss leaves at
 * least the marks. Either way recovery restores degraded stripes from their preimages and resyncs
 * the parity of every commanded stripe and every marked region; nothing is redone, because every
 * answered write is already on the members and every unanswered one is still held by its client.
 *
 * <p><b>FLUSH</b> syncs every member, in parallel, and lets the records it covered retire.
 * <b>FUA</b> writes go through to their members before the answer. Reads go straight to the
 * volume: a write is answered only once the volume has it.
 */
public final class CommandController implements NumberedController {

    private final BlockDevice volume;
    private final Journal journal;
    private final IoPool io;
    /**
     * Numbers, marks and appends each single-process request, in the order its room was granted.
     * Off the network thread that received the request: a put into the memory-mapped map takes
     * page faults on pages the kernel has just written back (several per put, tens of
     * microseconds under sequential writes), and that thread is the one a connection's throughput
     * rests on (measured: 1 MiB sequential writes about 7% faster). The appender reads only the
     * command; the payload stays in the front's buffer, which the front releases once the write
     * is answered (the I/O thread writes the members from it first).
     */
    private final java.util.concurrent.ExecutorService appender;
    private final DirtyRegions regions;
    private final Retirer retirer;
    private final Replication replication;
    private final Object order = new Object();
    private final ReentrantLock state = new ReentrantLock();
    private final Condition drained = state.newCondition();
    private int inFlight;
    private boolean closed;
    /** The request an I/O thread is applying: the owner of the preimages it saves. */
    private final ThreadLocal<Request> applying = new ThreadLocal<>();
    private final long stripeBytes;
    /** Journal seq of each request's record → the front's seq for it (HA), for {@link Replication#retiredThrough}. */
    private final ConcurrentSkipListMap<Long, Long> frontSeqs = new ConcurrentSkipListMap<>();

    /**
     * @param volume      the volume; still owned (and closed) by the caller
     * @param journal     a commands journal, already recovered by the caller; {@link #close()}
     *                    closes it cleanly
     * @param regionBytes the size of a dirty region ({@link DirtyRegions})
     * @param replication what the HA primary adds; {@link Replication#NONE} in single-process mode
     */
    public CommandController(BlockDevice volume, Journal journal, int ioThreads, long regionBytes,
                             Replication replication) {
        if (journal.mode() != JournalMode.COMMANDS) {
            throw new IllegalArgumentException("journal " + journal.path() + " holds " + journal.mode().word()
                    + ", not commands");
        }
        this.volume = volume;
        this.journal = journal;
        this.replication = replication;
        this.io = new IoPool(ioThreads);
        this.appender = IoPool.appender();
        Retirer[] self = new Retirer[1];
        this.regions = new DirtyRegions(journal, regionBytes, volume.size(), () -> self[0].soon());
        this.retirer = new Retirer(volume, journal, this::retiredThrough, regions::clean);
        self[0] = retirer;
        if (volume instanceof RaidVolume raid) {
            this.stripeBytes = raid.geometry().stripeDataSize();
            raid.logPreimagesTo(this::savePreimage);
        } else {
            this.stripeBytes = 0;
        }
    }

    /** Single-process mode, with the default region size. */
    public CommandController(BlockDevice volume, Journal journal, int ioThreads) {
        this(volume, journal, ioThreads, DirtyRegions.DEFAULT_REGION_BYTES, Replication.NONE);
    }

    @Override
    public long size() {
        return volume.size();
    }

    @Override
    public Admission admission() {
        return retirer.admission();
    }

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        return io.submit(() -> volume.read(dst, offset), "read", offset, dst.remaining());
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuf data, boolean fua) {
        return write(0, offset, Payloads.nio(data), fua);
    }

    @Override
    public CompletableFuture<Void> write(long seq, long offset, ByteBuf data, boolean fua) {
        return write(seq, offset, Payloads.nio(data), fua);
    }

    /**
     * A WRITE the front numbered {@code seq} (HA; 0 in single-process mode). {@code data} is the
     * front's buffer: it stays valid and unchanged until the future completes, so nothing copies it.
     */
    public CompletableFuture<Void> write(long seq, long offset, ByteBuffer data, boolean fua) {
        return run(seq, RecordKind.WRITE, offset, data.remaining(), fua ? WriteFlags.FUA : 0,
                () -> volume.write(data, offset, fua), "write");
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly,
                                               boolean fua) {
        return writeZeroes(0, offset, length, mayDeallocate, fastOnly, fua);
    }

    /** As {@link #write(long, long, ByteBuffer, boolean)}, for WRITE_ZEROES. */
    @Override
    public CompletableFuture<Void> writeZeroes(long seq, long offset, long length, boolean mayDeallocate,
                                               boolean fastOnly, boolean fua) {
        int flags = WriteFlags.of(fua, mayDeallocate, false);
        Apply apply = () -> volume.writeZeroes(offset, length, mayDeallocate, fua);
        if (!fastOnly) {
            return run(seq, RecordKind.WRITE_ZEROES, offset, length, flags, apply, "write-zeroes");
        }
        // Asked before anything is journaled, so a refused fast zero changes nothing anywhere.
        return io.submit(() -> {
            if (!volume.zeroesFast(offset, length, mayDeallocate)) {
                throw LocalController.notFast(offset, length);
            }
        }, "write-zeroes", offset, length).thenCompose(v ->
                run(seq, RecordKind.WRITE_ZEROES, offset, length, flags, apply, "write-zeroes"));
    }

    @Override
    public CompletableFuture<Void> trim(long offset, long length, boolean fua) {
        return trim(0, offset, length, fua);
    }

    /** As {@link #write(long, long, ByteBuffer, boolean)}, for TRIM. */
    @Override
    public CompletableFuture<Void> trim(long seq, long offset, long length, boolean fua) {
        return run(seq, RecordKind.TRIM, offset, length, fua ? WriteFlags.FUA : 0,
                () -> volume.trim(offset, length, fua), "trim");
    }

    /** Makes every write answered before it durable: one member sync, in parallel, shared by concurrent FLUSHes. */
    @Override
    public CompletableFuture<Void> flush() {
        if (!enter()) {
            return CompletableFuture.failedFuture(IoPool.shuttingDown());
        }
        CompletableFuture<Void> done = retirer.flush();
        done.whenComplete((v, err) -> exit());
        return done;
    }

    /** Syncs the members, retires every applied record and clears idle marks (tests, and a stop). */
    public void retireNow() throws IOException {
        retirer.retireNow();
    }

    /** Test hook: break one of the journal's rules on purpose, to show the power-loss test notices. */
    void breakOnPurpose(DirtyRegions.Broken rule) {
        regions.breakOnPurpose(rule);
        retirer.skipMemberSync = rule == DirtyRegions.Broken.CLEAR_BEFORE_SYNC;
    }

    /** Marks held now. */
    public int marks() {
        return regions.marked();
    }

    /** Writes so far, and how many of them waited for a mark's sync: the journal's cost per write. */
    public long[] syncWaits() {
        return new long[] {regions.writes(), regions.writesThatWaited(), regions.marksWritten()};
    }

    /** Completes once every request submitted before this call is appended (HA: a standby copies from there). */
    @Override
    public CompletableFuture<Void> journaledSoFar() {
        // Every request granted room before is handed to the appender first: it is appended once
        // the appender reaches this point.
        return journal.afterEarlierReservations().thenRunAsync(() -> { }, appender);
    }

    /**
     * Stops taking requests, waits for those under way, syncs the members, retires every record,
     * clears every mark and closes the journal cleanly.
     */
    @Override
    public void close() throws IOException, InterruptedException {
        state.lock();
        try {
            closed = true;
            while (inFlight > 0) {
                drained.await(1, TimeUnit.MINUTES);
            }
        } finally {
            state.unlock();
        }
        retirer.close();
        appender.shutdown();
        appender.awaitTermination(1, TimeUnit.MINUTES);
        io.close();
        retirer.retireNow();
        int left = regions.clearIdle(journal.appliedThrough());
        if (left > 0) {
            throw new IllegalStateException(left + " dirty regions still have writes under way after a clean stop");
        }
        journal.closeClean();
    }

    private void retiredThrough(long local) {
        Map.Entry<Long, Long> last = frontSeqs.floorEntry(local);
        if (last == null) {
            return;
        }
        frontSeqs.headMap(local, true).clear();
        replication.retiredThrough(last.getValue());
    }

    /**
     * Journals a degraded stripe's preimage and waits until it is durable (and, in HA mode, held by
     * the standby), on the I/O thread applying its request, under the stripe's lock: the lost
     * chunk exists only as parity, so a torn write would destroy it (DESIGN.md "RAID").
     */
    private void savePreimage(Preimage preimage) throws IOException {
        Request owner = applying.get();
        if (owner == null) {
            throw new IllegalStateException("stripe " + preimage.stripe() + " written outside a journaled request");
        }
        ByteBuffer bytes = preimage.encode();
        int size = bytes.remaining();
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
            journal.applied(ticket); // it only has to stay until its request retires
        }
    }

    private CompletableFuture<Void> run(long seq, RecordKind kind, long offset, long length, int flags, Apply apply,
                                        String what) {
        if (!enter()) {
            return CompletableFuture.failedFuture(IoPool.shuttingDown());
        }
        Request r = new Request(seq, kind, offset, length, flags, apply, what);
        r.start();
        return r.done;
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

    @FunctionalInterface
    private interface Apply {
        void run() throws IOException;
    }

    /** One write on its way; answered once, when the members have it or it failed. */
    private final class Request {
        final long seq;
        final RecordKind kind;
        final long offset;
        final long length;
        final int flags;
        final Apply apply;
        final String what;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        Ticket ticket;
        DirtyRegions.Hold hold;

        Request(long seq, RecordKind kind, long offset, long length, int flags, Apply apply, String what) {
            this.seq = seq;
            this.kind = kind;
            this.offset = offset;
            this.length = length;
            this.flags = flags;
            this.apply = apply;
            this.what = what;
        }

        void start() {
            journal.reserve(0).whenComplete((v, err) -> {
                if (err != null) {
                    finish(err);
                    return;
                }
                if (seq > 0) {
                    // HA: this is the front link's event loop, and the command goes on to the
                    // standby's link from here; through the appender every command would be a task
                    // handed to that link's loop (measured: 4 KiB random writes about a tenth slower).
                    record();
                    return;
                }
                try {
                    appender.execute(this::record); // in the order room was granted
                } catch (RejectedExecutionException e) {
                    record(); // cannot happen while this request is in flight: never leave room unused
                }
            });
        }

        /**
         * Numbers the command, holds its regions and appends it, in the order requests got their
         * room (which is the order they arrived); then, once the marks are durable (and in HA mode
         * the standby holds the command), writes the members.
         */
        private void record() {
            synchronized (order) {
                ticket = journal.begin(0);
                hold = regions.begin(offset, length);
                if (seq > 0) {
                    frontSeqs.put(ticket.lastSeq(), seq);
                }
                try {
                    journal.append(ticket, kind, offset, length, flags, seq, null);
                } catch (IOException | RuntimeException e) {
                    finish(e);
                    return;
                }
            }
            if (seq > 0) {
                replication.record(seq, kind, offset, length, flags, null);
            }
            CompletableFuture.allOf(hold.durable, replication.mayApply(seq)).whenComplete((v, err) -> {
                if (err != null) {
                    finish(err); // a mark could not be made durable, or the standby or lease says no
                } else {
                    onIo();
                }
            });
        }

        private void onIo() {
            try {
                io.execute(this::applyToVolume);
            } catch (RejectedExecutionException e) {
                finish(IoPool.shuttingDown());
            }
        }

        private void applyToVolume() {
            applying.set(this);
            Throwable failed = null;
            try {
                apply.run();
            } catch (Throwable e) {
                failed = e;
            } finally {
                applying.remove();
            }
            finish(failed);
        }

        /**
         * The request is done, written or failed: its record counts as applied either way (one
         * that never retired would stop the journal for good; a failed write's stripes are in its
         * regions, resynced at the next recovery if they lie), its regions are released, and the
         * client hears.
         */
        private void finish(Throwable failure) {
            if (ticket != null) {
                journal.applied(ticket);
            }
            if (hold != null) {
                hold.end(ticket.lastSeq());
            }
            if (failure == null) {
                if (seq > 0 && ticket != null) {
                    replication.finished(seq); // before the answer: the front may resend nothing it heard of
                }
                done.complete(null);
            } else {
                done.completeExceptionally(IoPool.failure(failure, what, offset, length));
            }
            exit();
        }
    }
}
