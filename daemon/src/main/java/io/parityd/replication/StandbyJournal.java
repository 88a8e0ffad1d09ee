package io.parityd.replication;

import io.parityd.controller.DirtyRegions;
import io.parityd.link.Finished;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalMode;
import io.parityd.nvram.PendingRequest;
import io.parityd.nvram.RecordKind;
import io.parityd.nvram.RecoveryPlan;
import io.parityd.nvram.Ticket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standby's half of the write path (DESIGN.md "The write path (HA mode)", steps 2, 3 and 6):
 * every record the primary journals comes here too (copied when the standby joins, streamed
 * since), goes into this controller's journal, and once it is durable the primary hears that the
 * standby holds it; when the primary says records retired (they are on the members, synced),
 * they leave here too. Nothing here touches a member.
 *
 * <p>Both journal modes, as the primary's: a data journal holds each write's bytes; a commands
 * journal holds each write's range and marks its dirty regions ({@link DirtyRegions}), and a
 * record counts as held once its regions' marks are durable. The primary's marks come as records
 * of their regions when the standby joins.
 *
 * <p><b>Order.</b> Records are held in the order {@link #hold} is called, which is the order the
 * primary sent them (one link, one thread); "durable through" is reported only for a prefix of
 * that order, so the acknowledgement is cumulative even though marks become durable in their own
 * order.
 */
public final class StandbyJournal implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StandbyJournal.class);

    private final Journal journal;
    private final DirtyRegions regions;
    private final LongConsumer durableThrough;
    /**
     * Front seq → the tickets holding it, for records held here and not yet retired. Usually one;
     * a joining standby may get a record both copied and streamed, and the primary's marks come
     * as records under one seq: each must retire, or the journal's applied prefix stops at it.
     * The lists are changed under {@code order}.
     */
    private final ConcurrentSkipListMap<Long, List<Ticket>> held = new ConcurrentSkipListMap<>();
    /** Front seqs held here that the primary said it finished (on the members, not yet synced). */
    private final ConcurrentSkipListSet<Long> finished = new ConcurrentSkipListSet<>();
    private final Object order = new Object();
    /** Records not yet durable, in the order they were given, each with its front seq. Guarded by {@code order}. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private volatile long highestHeld;
    private long highestDurable;
    /** Retiring syncs the journal: never on the link's event loop. */
    private final ExecutorService retirer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "parityd-standby-retire");
        t.setDaemon(true);
        return t;
    });

    private static final class Pending {
        final long seq;
        final long index;
        boolean durable;

        Pending(long seq, long index) {
            this.seq = seq;
            this.index = index;
        }
    }

    /** Records given so far, numbered in arrival order. Guarded by {@code order}. */
    private long given;
    /** Every record given up to this arrival number is durable. Guarded by {@code order}. */
    private long durablePrefix;
    /** {@link #heldSoFar} callers, by the arrival number they wait for. Guarded by {@code order}. */
    private final java.util.TreeMap<Long, java.util.List<CompletableFuture<Void>>> prefixWaiters =
            new java.util.TreeMap<>();

    /**
     * @param journal        this controller's journal, already emptied of anything from before
     *                       ({@link #dropAll}) and in the primary's mode
     * @param regionBytes    a dirty region's size, for a commands journal
     * @param volumeBytes    the volume's size
     * @param durableThrough told (on any thread, never lower than before) the highest front seq
     *                       through which every record held here is durable
     */
    public StandbyJournal(Journal journal, long regionBytes, long volumeBytes, LongConsumer durableThrough) {
        this.journal = journal;
        // Marks clear when the primary says its writes are synced (retiredThrough); nothing here
        // can hurry that, so a full table of marks just waits for the primary's next retire.
        this.regions = journal.mode() == JournalMode.COMMANDS
                ? new DirtyRegions(journal, regionBytes, volumeBytes, () -> { }) : null;
        this.durableThrough = durableThrough;
    }

    /**
     * Retires everything {@code journal} holds and clears its marks: a controller that becomes
     * standby copies the primary's records instead (its own may be stale: retired by the primary
     * while it was away). Then the journal takes {@code mode}, the primary's.
     */
    public static void dropAll(Journal journal, JournalMode mode) throws IOException {
        var live = journal.live();
        for (PendingRequest r : live) {
            journal.applied(new Ticket(r.firstSeq(), r.lastSeq(), 0));
        }
        long through = Math.max(journal.appliedThrough(), journal.plan().lastSeq());
        if (through > journal.stats().retiredThrough()) {
            journal.retire(through);
        }
        for (RecoveryPlan.Mark m : journal.liveMarks()) {
            journal.unmark(m.region());
        }
        journal.switchMode(mode);
    }

    /**
     * Holds one record the front numbered {@code seq}. Returns when it is appended (the caller may
     * then release {@code data}); durability is reported through {@code durableThrough}.
     * {@code data} is the write's bytes in a data journal, null otherwise.
     */
    public CompletableFuture<Void> hold(long seq, RecordKind kind, long offset, long length, int flags,
                                        ByteBuffer data) {
        int bytes = data == null ? 0 : data.remaining();
        CompletableFuture<Void> appended = new CompletableFuture<>();
        // Room is granted first come, first served, so the callbacks run in the order of the calls.
        journal.reserve(bytes).whenComplete((v, err) -> {
            if (err != null) {
                appended.completeExceptionally(err);
                return;
            }
            Ticket ticket;
            Pending p;
            CompletableFuture<Void> durable;
            try {
                synchronized (order) {
                    ticket = journal.begin(bytes);
                    journal.append(ticket, kind, offset, length, flags, seq, data == null ? null : data.duplicate());
                    held.computeIfAbsent(seq, k -> new ArrayList<>(1)).add(ticket);
                    highestHeld = Math.max(highestHeld, seq);
                    p = new Pending(seq, ++given);
                    pending.add(p);
                    durable = regions != null ? regionsHeld(seq, offset, length)
                            : journal.whenDurable(ticket.lastSeq());
                }
            } catch (IOException | RuntimeException e) {
                appended.completeExceptionally(e);
                return;
            }
            appended.complete(null);
            durable.whenComplete((ok, failed) -> {
                if (failed != null) {
                    log.error("standby journal {}: record {} could not be made durable: {}", journal.path(), seq,
                            failed.toString());
                    return; // never acknowledged: the primary waits, and the front sees this standby fail
                }
                durable(p);
            });
        });
        return appended;
    }

    /** A commands record is held once every region it covers is durably marked. */
    private CompletableFuture<Void> regionsHeld(long seq, long offset, long length) {
        DirtyRegions.Hold h = regions.begin(offset, length);
        return h.durable.whenComplete((v, err) -> h.end(seq));
    }

    /** One record became durable: report the prefix of the arrival order that now is. */
    private void durable(Pending p) {
        long through = -1;
        java.util.List<CompletableFuture<Void>> ready = new java.util.ArrayList<>();
        synchronized (order) {
            p.durable = true;
            while (!pending.isEmpty() && pending.peek().durable) {
                Pending done = pending.poll();
                through = Math.max(through, done.seq);
                durablePrefix = done.index;
            }
            var head = prefixWaiters.headMap(durablePrefix, true);
            head.values().forEach(ready::addAll);
            head.clear();
            if (through > highestDurable) {
                highestDurable = through;
            } else {
                through = -1;
            }
        }
        ready.forEach(f -> f.complete(null));
        if (through >= 0) {
            durableThrough.accept(through);
        }
    }

    /**
     * Holds a degraded stripe's image the primary sent before touching the stripe, for the
     * request the front numbered {@code ownerSeq}; {@code held} runs once it is durable. It takes
     * room at once (the primary's write waits on it, and that write holds retirement back) and
     * counts as applied: it only has to stay until its request retires.
     */
    public void holdPreimage(long ownerSeq, long offset, ByteBuffer encoded, Runnable held) {
        int bytes = encoded.remaining();
        Ticket ticket;
        try {
            journal.admitNow(bytes);
            synchronized (order) {
                ticket = journal.begin(bytes);
                journal.append(ticket, RecordKind.PREIMAGE, offset, bytes, 0, ownerSeq, encoded.duplicate());
            }
            journal.applied(ticket);
        } catch (IOException | RuntimeException e) {
            log.error("standby journal {}: cannot hold a preimage for front seq {}: {}", journal.path(), ownerSeq,
                    e.toString());
            return; // never acknowledged: the primary's write waits, and the front hears of a silent standby
        }
        journal.whenDurable(ticket.lastSeq()).whenComplete((ok, failed) -> {
            if (failed == null) {
                held.run();
            }
        });
    }

    /**
     * The primary finished the writes it numbered {@code seqs} (link's event loop). Only seqs held
     * here count: one whose record has not arrived yet is dropped, which costs a resync at worst.
     */
    public void finished(Finished f) {
        for (int i = 0; i < f.count(); i++) {
            long seq = f.seq(i);
            if (held.containsKey(seq)) {
                finished.add(seq);
            }
        }
    }

    /** The held front seqs the primary finished: what a promotion on the same boot need not resync. */
    public Set<Long> finishedSeqs() {
        return Set.copyOf(finished);
    }

    /** Completes once every record {@link #hold} was given before this call is durable. */
    public CompletableFuture<Void> heldSoFar() {
        return journal.afterEarlierReservations().thenCompose(v -> {
            CompletableFuture<Void> all = new CompletableFuture<>();
            synchronized (order) {
                if (pending.isEmpty()) {
                    all.complete(null);
                } else {
                    prefixWaiters.computeIfAbsent(given, k -> new java.util.ArrayList<>()).add(all);
                }
            }
            return all;
        });
    }

    /** The highest front seq held here (appended, maybe not yet durable); 0 if none. */
    public long highestHeld() {
        return highestHeld;
    }

    /** The highest front seq through which every record given so far is durable. */
    public long highestDurable() {
        synchronized (order) {
            return highestDurable;
        }
    }

    /**
     * The primary retired every request it numbered up to {@code seq} (on the members, synced):
     * those leave here too, and a commands journal's regions written by nothing newer lose their
     * marks, in the background.
     */
    public void retiredThrough(long seq) {
        retirer.execute(() -> {
            long last = -1;
            List<Ticket> retiring = new ArrayList<>();
            synchronized (order) {
                var head = held.headMap(seq, true);
                head.values().forEach(retiring::addAll);
                head.clear();
            }
            for (Ticket t : retiring) {
                journal.applied(t);
                last = Math.max(last, t.lastSeq());
            }
            finished.headSet(seq, true).clear();
            try {
                if (last >= 0) {
                    journal.retire(Math.min(last, journal.appliedThrough()));
                }
                if (regions != null) {
                    regions.clean(seq);
                }
            } catch (IOException | RuntimeException e) {
                log.error("standby journal {}: retiring through front seq {} failed: {}", journal.path(), seq,
                        e.toString());
            }
        });
    }

    /** Stops retiring (a retire under way finishes); the journal stays open, owned by the caller. */
    @Override
    public void close() throws InterruptedException {
        retirer.shutdown();
        retirer.awaitTermination(1, TimeUnit.MINUTES);
    }
}
