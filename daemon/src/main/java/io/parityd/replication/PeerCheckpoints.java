package io.parityd.replication;

import io.parityd.controller.Replication;
import io.parityd.controller.RequestFailedException;
import io.parityd.controller.RoleMachine;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * The primary's side of the checkpoints (DESIGN.md "The write path (HA mode)", invariant: before
 * the primary modifies any member for a write, both controllers' NVRAM hold that write). A
 * request may touch the members once
 * <ul>
 *   <li>the standby, if one is in sync, said it holds it (its acknowledgements are cumulative),
 *       and</li>
 *   <li>this controller still holds the front's lease ({@link RoleMachine#mayWriteMembers}):
 *       defence in depth against a primary that was cut off and replaced; the real fence is
 *       that the front kills it and the new primary takes the members' locks.</li>
 * </ul>
 * When the standby stops answering, writes wait: the primary never goes on alone by itself, or
 * a standby cut off from it but still in sync on paper could be promoted without those writes.
 * Only the front, after raising the epoch in the superblocks (which makes that standby outdated),
 * lets it go on ({@link #goOnAlone}).
 */
public final class PeerCheckpoints implements Replication {

    private final RoleMachine roles;
    private final ScheduledExecutorService timer;
    private final LongConsumer sendRetired;
    private final PreimageSender sendPreimage;
    /** Preimages sent to the standby and not yet acknowledged, by id. */
    private final Map<Long, CompletableFuture<Void>> preimagesOwed = new java.util.HashMap<>();
    private long nextPreimageId;

    /** Sends a preimage to the standby; false if there is no link to send it on. */
    @FunctionalInterface
    public interface PreimageSender {
        boolean send(long id, long ownerSeq, long offset, java.nio.ByteBuffer encoded);
    }

    /** Sends a journal record to the standby, if one is linked; takes ownership of {@code data} (null for none). */
    @FunctionalInterface
    public interface RecordSender {
        void send(long seq, io.parityd.nvram.RecordKind kind, long offset, long length, int flags,
                  io.netty.buffer.ByteBuf data);
    }

    private RecordSender sendRecord = (seq, kind, offset, length, flags, data) -> {
        if (data != null) {
            data.release();
        }
    };

    private volatile LongConsumer sendFinished = seq -> { };

    /** Where {@link #finished} sends (set once, before the first request). */
    public void sendFinishedWith(LongConsumer sender) {
        this.sendFinished = sender;
    }

    /** A write is on the members: the standby hears it (batched by the sender), to resync less if promoted. */
    @Override
    public void finished(long seq) {
        sendFinished.accept(seq);
    }

    /** Where {@link #record} sends (set once, before the first request). */
    public void sendRecordsWith(RecordSender sender) {
        this.sendRecord = sender;
    }

    /**
     * Every record this primary journals goes to the standby (DESIGN.md "The write path (HA
     * mode)", step 2): it holds it durably and acknowledges, and {@link #mayApply} waits for that
     * once the standby is in sync. A standby still copying gets it too, so that it holds every
     * record from its join on.
     */
    @Override
    public void record(long seq, io.parityd.nvram.RecordKind kind, long offset, long length, int flags,
                       io.netty.buffer.ByteBuf data) {
        sendRecord.send(seq, kind, offset, length, flags, data);
    }
    private final TreeMap<Long, CompletableFuture<Void>> waiting = new TreeMap<>();
    private final List<CompletableFuture<Void>> leaseWaiting = new ArrayList<>();
    private boolean standbyInSync;
    private long receivedThrough;
    private long owedSince;
    private boolean closing;
    /** When each write the standby must acknowledge arrived here: for the checkpoint round trip. */
    private final TreeMap<Long, Long> arrivals = new TreeMap<>();
    /** The checkpoint round trip, smoothed (EWMA, 1/8 weight per sample, as TCP's SRTT); -1 before the first. */
    private volatile long roundTripNanos = -1;

    /**
     * @param roles       this controller's role and lease
     * @param timer       re-checks the lease of waiting writes
     * @param sendRetired tells the standby (if any) the front seq records retired through
     */
    public PeerCheckpoints(RoleMachine roles, ScheduledExecutorService timer, LongConsumer sendRetired,
                           PreimageSender sendPreimage) {
        this.roles = roles;
        this.timer = timer;
        this.sendRetired = sendRetired;
        this.sendPreimage = sendPreimage;
    }

    /**
     * A degraded stripe's preimage goes to the standby, if one is in sync, and the stripe waits
     * until it holds it (DESIGN.md's invariant, for the bytes a crash mid-stripe would destroy). A
     * standby that never answers holds the write back just as a missing acknowledgement does,
     * until the front lets this controller go on alone.
     */
    @Override
    public CompletableFuture<Void> preimage(long ownerSeq, long offset, java.nio.ByteBuffer encoded) {
        CompletableFuture<Void> held = new CompletableFuture<>();
        long id;
        synchronized (this) {
            if (closing) {
                return CompletableFuture.failedFuture(stopping());
            }
            if (!standbyInSync) {
                return CompletableFuture.completedFuture(null);
            }
            id = ++nextPreimageId;
            if (waiting.isEmpty() && preimagesOwed.isEmpty()) {
                owedSince = roles.clock().nanos();
            }
            preimagesOwed.put(id, held);
        }
        if (!sendPreimage.send(id, ownerSeq, offset, encoded)) {
            // No link right now: it stays owed, like an acknowledgement, until the standby is back
            // (and sent anew in the copy it makes) or the front lets this controller go on alone.
        }
        return held;
    }

    /** The standby holds preimage {@code id}. */
    public void preimageHeld(long id) {
        CompletableFuture<Void> f;
        synchronized (this) {
            f = preimagesOwed.remove(id);
        }
        if (f != null) {
            f.complete(null);
        }
    }

    @Override
    public boolean answerWhenApplied() {
        return true;
    }

    @Override
    public CompletableFuture<Void> mayApply(long seq) {
        CompletableFuture<Void> checkpointed;
        synchronized (this) {
            if (closing) {
                return CompletableFuture.failedFuture(stopping());
            }
            if (!standbyInSync || receivedThrough >= seq) {
                checkpointed = CompletableFuture.completedFuture(null);
            } else {
                if (waiting.isEmpty()) {
                    owedSince = roles.clock().nanos();
                }
                checkpointed = waiting.computeIfAbsent(seq, s -> new CompletableFuture<>());
            }
        }
        return checkpointed.thenCompose(v -> leaseHeld());
    }

    /** Completes once the lease is held; fails if this controller was fenced meanwhile. */
    private CompletableFuture<Void> leaseHeld() {
        if (roles.mayWriteMembers()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        recheckLease(f);
        return f;
    }

    private void recheckLease(CompletableFuture<Void> f) {
        if (roles.mayWriteMembers()) {
            f.complete(null);
        } else if (roles.role() != io.parityd.controller.Role.PRIMARY) {
            f.completeExceptionally(new IOException("controller is no longer primary (" + roles.role()
                    + "): its writes stop before touching any member"));
        } else {
            timer.schedule(() -> recheckLease(f), 5, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void retiredThrough(long seq) {
        sendRetired.accept(seq);
    }

    /** A write the standby must acknowledge arrived here (from the front) at {@code nanos}. */
    public synchronized void arrived(long seq, long nanos) {
        if (standbyInSync && arrivals.size() < 100_000) {
            arrivals.put(seq, nanos);
        }
    }

    /** The checkpoint round trip, smoothed; -1 before the first sample. */
    public long roundTripNanos() {
        return roundTripNanos;
    }

    /** The standby holds every write the front numbered up to {@code seq}, durably. */
    public void received(long seq) {
        List<CompletableFuture<Void>> ready = new ArrayList<>();
        synchronized (this) {
            if (seq <= receivedThrough) {
                return;
            }
            receivedThrough = seq;
            Map.Entry<Long, Long> sample = arrivals.floorEntry(seq);
            if (sample != null) {
                long rtt = roles.clock().nanos() - sample.getValue();
                roundTripNanos = roundTripNanos < 0 ? rtt : roundTripNanos + (rtt - roundTripNanos) / 8;
                arrivals.headMap(seq, true).clear();
            }
            Map<Long, CompletableFuture<Void>> head = waiting.headMap(seq, true);
            ready.addAll(head.values());
            head.clear();
            owedSince = roles.clock().nanos(); // what is still owed was asked for no earlier than this answer
        }
        ready.forEach(f -> f.complete(null));
    }

    /**
     * A standby finished copying this journal and holds every write from here on: writes wait for
     * its acknowledgement from now on. {@code heldThrough} is what it acknowledged so far.
     */
    public synchronized void standbyInSync(long heldThrough) {
        standbyInSync = true;
        receivedThrough = Math.max(receivedThrough, heldThrough);
    }

    /** True while writes wait for a standby's acknowledgement. */
    public synchronized boolean standbyInSync() {
        return standbyInSync;
    }

    /**
     * The front raised the epoch (the standby is outdated now): writes stop waiting for it. The
     * caller has written the new epoch to the superblocks first.
     */
    public void goOnAlone() {
        List<CompletableFuture<Void>> ready;
        synchronized (this) {
            standbyInSync = false;
            ready = new ArrayList<>(waiting.values());
            waiting.clear();
            ready.addAll(preimagesOwed.values());
            preimagesOwed.clear();
        }
        ready.forEach(f -> f.complete(null));
    }

    /**
     * How long the standby has kept writes waiting: since the oldest acknowledgement still owed
     * was first asked for, by {@code clock}'s nanos; 0 if none is owed. A standby whose link is
     * silently cut keeps writes waiting for ever, so the controller reports it to the front once
     * this exceeds the lease.
     */
    public synchronized long owedForNanos(long now) {
        return waiting.isEmpty() && preimagesOwed.isEmpty() ? 0 : now - owedSince;
    }

    /**
     * This controller stops (cleanly): every write not yet let through fails as SHUTTING_DOWN
     * without touching a member, now or when it gets here. The front resends such requests to the
     * next primary, so no client sees the error, and none of them lands here without the
     * standby holding it.
     */
    public void close() {
        List<CompletableFuture<Void>> failed;
        synchronized (this) {
            closing = true;
            failed = new ArrayList<>(waiting.values());
            waiting.clear();
            failed.addAll(preimagesOwed.values());
            preimagesOwed.clear();
        }
        failed.forEach(f -> f.completeExceptionally(stopping()));
    }

    private static RequestFailedException stopping() {
        return new RequestFailedException(RequestFailedException.Reason.SHUTTING_DOWN,
                "this controller is stopping; the request goes to the next primary");
    }
}
