package io.parityd.replication;

import io.parityd.nvram.Journal;
import io.parityd.nvram.PendingRequest;
import io.parityd.nvram.RecordKind;
import io.parityd.nvram.Ticket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standby's half of the write path (DESIGN.md "The write path (HA mode)", steps 2, 3 and 6):
 * every write image the front sends goes into this controller's journal, and once it is durable
 * the primary hears that the standby holds it; when the primary says records retired (they are on
 * the members, synced), they leave here too. Nothing here touches a member.
 *
 * <p><b>Order.</b> Images are held in the order {@link #hold} is called, which must be the
 * front's order (catch-up records first, then the front's stream, all from one thread): journal
 * sequence numbers then follow the front's, so "durable through journal seq S" means "holds every
 * write the front numbered up to the front seq of S", and the acknowledgement sent is cumulative.
 */
public final class StandbyJournal implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StandbyJournal.class);

    private final Journal journal;
    private final LongConsumer durableThrough;
    /** Front seq → the ticket holding it, for requests held here and not yet retired. */
    private final ConcurrentSkipListMap<Long, Ticket> held = new ConcurrentSkipListMap<>();
    private final Object order = new Object();
    private volatile long highestHeld;
    /** The journal seq of the last image begun; guarded by {@code order}. */
    private long lastBegun = -1;
    private long highestDurable;
    /** Retiring syncs the journal: never on the link's event loop. */
    private final ExecutorService retirer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "parityd-standby-retire");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param journal        this controller's journal, already emptied of anything from before
     *                       ({@link #dropAll})
     * @param durableThrough told (on any thread, never lower than before) the highest front seq
     *                       through which every image held here is durable
     */
    public StandbyJournal(Journal journal, LongConsumer durableThrough) {
        this.journal = journal;
        this.durableThrough = durableThrough;
    }

    /**
     * Retires everything {@code journal} holds: a controller that becomes standby copies the
     * primary's pending requests instead (its own may be stale: retired by the primary while it
     * was away).
     */
    public static void dropAll(Journal journal) throws IOException {
        var live = journal.live();
        for (PendingRequest r : live) {
            journal.applied(new Ticket(r.firstSeq(), r.lastSeq(), 0));
        }
        long through = Math.max(journal.appliedThrough(), journal.plan().lastSeq());
        if (through > journal.stats().retiredThrough()) {
            journal.retire(through);
        }
    }

    /**
     * Holds one image the front numbered {@code seq}. Returns when it is appended (the caller may
     * then release {@code data}); durability is reported through {@code durableThrough}.
     *
     * @throws IOException if the journal cannot take it (it is poisoned); the standby is then unusable
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
            try {
                synchronized (order) {
                    ticket = journal.begin(bytes);
                    journal.append(ticket, kind, offset, length, flags, seq, data == null ? null : data.duplicate());
                    held.put(seq, ticket);
                    lastBegun = ticket.lastSeq();
                    highestHeld = Math.max(highestHeld, seq);
                }
            } catch (IOException | RuntimeException e) {
                appended.completeExceptionally(e);
                return;
            }
            appended.complete(null);
            journal.whenDurable(ticket.lastSeq()).whenComplete((ok, failed) -> {
                if (failed != null) {
                    log.error("standby journal {}: image {} could not be made durable: {}", journal.path(), seq,
                            failed.toString());
                    return; // never acknowledged: the primary waits, and the front sees this standby fail
                }
                reportDurable(seq);
            });
        });
        return appended;
    }

    /**
     * Holds a degraded stripe's preimage the primary sent before touching the stripe, for the
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
                lastBegun = ticket.lastSeq();
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

    private void reportDurable(long seq) {
        long through;
        synchronized (this) {
            if (seq <= highestDurable) {
                return;
            }
            highestDurable = seq;
            through = seq;
        }
        durableThrough.accept(through);
    }

    /** Completes once every image {@link #hold} was given before this call is durable. */
    public CompletableFuture<Void> heldSoFar() {
        return journal.afterEarlierReservations().thenCompose(v -> {
            long through;
            synchronized (order) {
                through = lastBegun;
            }
            return through < 0 ? CompletableFuture.completedFuture(null) : journal.whenDurable(through);
        });
    }

    /** The highest front seq held here (appended, maybe not yet durable); 0 if none. */
    public long highestHeld() {
        return highestHeld;
    }

    /** The primary retired every request it numbered up to {@code seq}: those leave here too, in the background. */
    public void retiredThrough(long seq) {
        retirer.execute(() -> {
            long last = -1;
            for (Map.Entry<Long, Ticket> e : held.headMap(seq, true).entrySet()) {
                journal.applied(e.getValue());
                last = Math.max(last, e.getValue().lastSeq());
                held.remove(e.getKey());
            }
            if (last < 0) {
                return;
            }
            try {
                journal.retire(Math.min(last, journal.appliedThrough()));
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
