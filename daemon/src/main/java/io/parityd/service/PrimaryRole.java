package io.parityd.service;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.util.ReferenceCountUtil;
import io.parityd.controller.CommandController;
import io.parityd.controller.CommandRecovery;
import io.parityd.controller.JournalReplay;
import io.parityd.controller.JournaledController;
import io.parityd.controller.NumberedController;
import io.parityd.controller.RecoveryReport;
import io.parityd.controller.RequestFailedException;
import io.parityd.controller.Role;
import io.parityd.link.Assigned;
import io.parityd.link.CatchUpEnd;
import io.parityd.link.CatchUpRecord;
import io.parityd.link.CatchUpRequest;
import io.parityd.link.Command;
import io.parityd.link.LinkFormat;
import io.parityd.link.LinkMessage;
import io.parityd.link.PeerLost;
import io.parityd.link.Received;
import io.parityd.link.Reply;
import io.parityd.link.Request;
import io.parityd.link.Retired;
import io.parityd.member.MemberInUseException;
import io.parityd.nvram.JournalFormat;
import io.parityd.nvram.JournalMode;
import io.parityd.nvram.PendingRequest;
import io.parityd.nvram.RecordKind;
import io.parityd.nvram.WriteFlags;
import io.parityd.raid.ArrayAssembler;
import io.parityd.raid.ArrayException;
import io.parityd.raid.AssembledArray;
import io.parityd.raid.RaidVolume;
import io.parityd.raid.RaidVolumes;
import io.parityd.replication.FinishedBatcher;
import io.parityd.replication.PeerCheckpoints;
import io.parityd.replication.ReplyStatus;
import io.parityd.replication.StandbyJournal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A controller while it is primary (DESIGN.md "The write path (HA mode)", "Failover and
 * fencing"): the one writer of the members. It got there by {@link #promote}: it waited for the
 * members' locks (the old primary holds them until the front has fenced it), checked that its
 * journal is current for the array's epoch, raised the epoch in every superblock, and redid every
 * request its journal held in the front's order. It then runs the front's requests through a
 * {@link JournaledController} whose writes touch the members only once the standby holds them
 * ({@link PeerCheckpoints}), answers each once the members have it, and serves a standby that
 * joins a copy of what its journal holds.
 *
 * <p><b>Resent requests.</b> After a failover the front resends every request it has no answer
 * for. A write the promotion redid (this controller held it as standby) is answered as done
 * without being written again: a later write to the same blocks may have been redone after it.
 * Any other resent write runs: it was in flight, never answered, so it may land; and one the old
 * primary gave up on before touching the members (it was stopping) must land.
 */
final class PrimaryRole implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PrimaryRole.class);

    private final ControllerService node;
    private final AssembledArray array;
    private final RaidVolume volume;
    private final ArrayOperations operations;
    private final NumberedController controller;
    private final PeerCheckpoints checkpoints;
    /** The front's seqs of the requests the promotion redid (held as standby): answered as done if resent. */
    private final Set<Long> redone;
    private final RecoveryReport recovery;
    private volatile Channel standby;
    private volatile long lastPeerLostReport;
    private final FrontLinkOrder order = new FrontLinkOrder(this::run);

    private PrimaryRole(ControllerService node, AssembledArray array, RaidVolume volume, ArrayOperations operations,
                        Set<Long> redone, RecoveryReport recovery) {
        this.node = node;
        this.array = array;
        this.volume = volume;
        this.operations = operations;
        this.redone = redone;
        this.recovery = recovery;
        this.checkpoints = new PeerCheckpoints(node.roles, node.control, this::sendRetired, this::sendPreimage);
        checkpoints.sendRecordsWith(this::sendRecord);
        checkpoints.sendFinishedWith(new FinishedBatcher(() -> standby));
        this.controller = node.journal.mode() == JournalMode.COMMANDS
                ? new CommandController(volume, node.journal, node.settings.ioThreads(),
                        node.settings.journal().regionBytes(), checkpoints)
                : new JournaledController(volume, node.journal, node.settings.ioThreads(), checkpoints);
    }

    /**
     * Makes this controller primary at an epoch above the array's (at least {@code proposedEpoch}).
     *
     * @param wasStandby its role until now, if it was standby (its journal holds the writes to redo)
     * @throws ArrayException if the members cannot be had (still locked by the old primary after
     *                        {@code promoteWait}), or this controller's journal is not current
     */
    static PrimaryRole promote(ControllerService node, long proposedEpoch, StandbyRole wasStandby) throws Exception {
        PromotionClock clock = new PromotionClock();
        if (wasStandby != null) {
            wasStandby.stopForPromotion();
        }
        clock.lap("standby stopped");
        long inSync = node.roles.role() == Role.STANDBY ? node.roles.inSyncEpoch() : node.state.inSyncEpoch();
        AssembledArray array = assembleWhenFenced(node);
        clock.lap("members assembled");
        try {
            boolean clean = array.shutDownCleanly();
            if (!clean && inSync != array.epoch()) {
                throw new ArrayException("controller " + node.settings.id() + " is outdated: its journal is in sync at"
                        + " epoch " + inSync + ", the array is at epoch " + array.epoch() + " and was not shut down"
                        + " cleanly, so the other controller holds writes this one lacks",
                        "start the other controller; this one copies its journal when it joins as standby");
            }
            long epoch = Math.max(proposedEpoch, array.epoch() + 1);
            array.advanceEpoch(epoch);
            clock.lap("epoch written");
            ArrayOperations operations = new ArrayOperations(array);
            if (node.metrics != null) {
                operations.events(node.metrics.counters(array.geometry().memberCount()));
            }
            RaidVolume volume = RaidVolumes.openHeld(array.geometry(), array.devices(), array.states(),
                    array.rebuildPositions(), operations);
            operations.attach(volume);
            operations.journal(node.journal, node.settings.journal().nonVolatile());
            RecoveryReport report = RecoveryReport.NOTHING;
            Set<Long> redone = new HashSet<>();
            if (clean) {
                // a clean array has nothing pending: anything held is stale
                StandbyJournal.dropAll(node.journal, node.settings.journal().mode());
            } else {
                clock.lap("volume opened");
                if (node.journal.mode() == JournalMode.COMMANDS) {
                    // The patent's recovery: resync what the held commands and marks name; redo
                    // nothing. The front resends every unanswered write, and each one runs. When
                    // the old primary's finished writes outlive it (same boot), only its unfinished
                    // commands are resynced and the marks stay for the next member sync.
                    report = CommandRecovery.recoverHeld(node.journal, volume, node.journal.liveMarks(),
                            wasStandby == null ? null : wasStandby.survivors());
                } else {
                    for (PendingRequest p : node.journal.live()) {
                        if (p.kind() != RecordKind.PREIMAGE && p.aux() > 0) {
                            redone.add(p.aux());
                        }
                    }
                    report = JournalReplay.replayHeld(node.journal, volume);
                }
                operations.recovered(report);
                clock.lap("journal recovered");
                if (node.journal.mode() != node.settings.journal().mode()) {
                    node.journal.switchMode(node.settings.journal().mode());
                }
            }
            array.markDirty(node.journal.uuid(), node.journal.mode() == io.parityd.nvram.JournalMode.COMMANDS);
            volume.resumeRebuilds();
            operations.reportResumedRebuilds();
            PrimaryRole role = new PrimaryRole(node, array, volume, operations, Set.copyOf(redone), report);
            node.roles.assignedPrimary(epoch, "assigned by the front");
            node.state.inSyncAt(epoch);
            clock.lap("serving");
            log.info("controller {} is PRIMARY of array '{}' at epoch {}: {}; promoted in {}", node.settings.id(),
                    array.geometry().name(), epoch, clean ? "the array was clean, nothing to redo" : report.summary(),
                    clock);
            operations.useSparesNow();
            return role;
        } catch (Exception e) {
            try {
                array.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /** Where a promotion's time goes, for its log line: "612 ms (standby stopped 3, members assembled 120, ...)". */
    private static final class PromotionClock {
        private final long start = System.nanoTime();
        private long last = start;
        private final StringBuilder laps = new StringBuilder();

        void lap(String step) {
            long now = System.nanoTime();
            laps.append(laps.length() == 0 ? "" : ", ").append(step).append(' ')
                    .append(TimeUnit.NANOSECONDS.toMillis(now - last));
            last = now;
        }

        @Override
        public String toString() {
            return TimeUnit.NANOSECONDS.toMillis(last - start) + " ms (" + laps + ")";
        }
    }

    /**
     * Assembles the array, waiting while another process (the old primary, until the front has
     * fenced it) holds a member: its locks go when it dies, kill -9 included.
     */
    private static AssembledArray assembleWhenFenced(ControllerService node) throws ArrayException, InterruptedException {
        long deadline = System.nanoTime() + node.settings.promoteWait().toNanos();
        while (true) {
            try {
                return new ArrayAssembler(Clock.systemUTC()).assemble(node.settings.currentMembers(),
                        ArrayAssembler.DirtyDegraded.JOURNAL_REPLAYS);
            } catch (ArrayException e) {
                if (!(e.getCause() instanceof MemberInUseException) || System.nanoTime() > deadline) {
                    throw e;
                }
                TimeUnit.MILLISECONDS.sleep(20);
            }
        }
    }

    /** What the front is told once this controller serves. */
    Assigned assigned() {
        return new Assigned(node.roles.epoch(), Role.PRIMARY.code(), node.highestSeq(), "");
    }

    // ---- the front's requests ------------------------------------------------------------------

    /**
     * Runs one request from the front's link number {@code link}; answers on {@code front} when
     * done. Takes ownership of {@code r}. Requests of a newer link wait for those of the links it
     * replaced ({@link FrontLinkOrder}).
     */
    void execute(Channel front, long link, Request r) {
        order.submit(front, link, r);
    }

    private void run(Channel front, long link, Request r) {
        long seq = r.seq();
        boolean fua = (r.flags() & WriteFlags.FUA) != 0;
        CompletableFuture<?> done;
        try {
            done = switch (r.command()) {
                case READ -> read(front, r);
                case WRITE -> {
                    checkpoints.arrived(seq, node.roles.clock().nanos());
                    // r holds the data until answered: the controller uses it in place (or takes a reference).
                    yield answer(front, r, redone.contains(seq) ? CompletableFuture.completedFuture(null) // redone at promotion
                            : controller.write(seq, r.offset(), r.data(), fua));
                }
                case TRIM -> answer(front, r, redone.contains(seq) ? CompletableFuture.completedFuture(null)
                        : controller.trim(seq, r.offset(), r.length(), fua));
                case WRITE_ZEROES -> answer(front, r, redone.contains(seq) ? CompletableFuture.completedFuture(null)
                        : controller.writeZeroes(seq, r.offset(), r.length(),
                        (r.flags() & WriteFlags.MAY_DEALLOCATE) != 0, (r.flags() & WriteFlags.FAST_ONLY) != 0,
                        fua));
                case FLUSH -> answer(front, r, controller.flush());
            };
        } catch (RuntimeException e) {
            done = answer(front, r, CompletableFuture.failedFuture(e));
        }
        done.whenComplete((v, err) -> order.finished(link));
    }

    private CompletableFuture<Void> read(Channel front, Request r) {
        int length = Math.toIntExact(r.length());
        ByteBuf into = PooledByteBufAllocator.DEFAULT.directBuffer(length, length);
        long seq = r.seq();
        r.release();
        return controller.read(r.offset(), into.nioBuffer(0, length)).whenComplete((v, err) -> {
            if (err == null) {
                into.writerIndex(length);
                front.writeAndFlush(new Reply(seq, ReplyStatus.OK, "", into));
            } else {
                into.release();
                front.writeAndFlush(failed(seq, err));
            }
        });
    }

    private static CompletableFuture<Void> answer(Channel front, Request r, CompletableFuture<Void> done) {
        long seq = r.seq();
        return done.whenComplete((v, err) -> {
            r.release();
            front.writeAndFlush(err == null ? new Reply(seq, ReplyStatus.OK, "", Unpooled.EMPTY_BUFFER) : failed(seq, err));
        });
    }

    private static Reply failed(long seq, Throwable err) {
        Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (cause instanceof RequestFailedException f) {
            return new Reply(seq, ReplyStatus.of(f.reason()), String.valueOf(f.getMessage()), Unpooled.EMPTY_BUFFER);
        }
        return new Reply(seq, ReplyStatus.IO_ERROR, String.valueOf(cause), Unpooled.EMPTY_BUFFER);
    }

    // ---- the standby's link --------------------------------------------------------------------

    /** A message on a standby's link (its event loop). */
    void fromStandby(Channel ch, LinkMessage m) {
        if (m instanceof CatchUpRequest c) {
            if (c.epoch() != node.roles.epoch()) {
                log.warn("controller {}: refused a standby's copy request at epoch {}: this primary acts in epoch {}",
                        node.settings.id(), c.epoch(), node.roles.epoch());
                ch.close();
                return;
            }
            JournalMode theirs = JournalMode.fromCode(c.journalMode());
            if (theirs != node.journal.mode()) {
                log.error("controller {}: refused a standby whose journal holds {}: this primary's holds {}; give both"
                        + " controllers the same --journal", node.settings.id(),
                        theirs == null ? "mode " + c.journalMode() : theirs.word(), node.journal.mode().word());
                ch.close();
                return;
            }
            standby = ch; // every record journaled from now on goes to it too (sendRecord)
            Thread t = new Thread(() -> catchUp(ch), "parityd-catch-up");
            t.setDaemon(true);
            t.start();
        } else if (ch != standby) {
            // Acknowledgements count only from the standby that asked for the copy last: an older
            // link of the same standby, or any other controller link, proves nothing about what the
            // standby now holds.
            ReferenceCountUtil.release(m);
            log.warn("controller {}: ignored {} from {}, which is not the current standby's link", node.settings.id(),
                    m.getClass().getSimpleName(), ch.remoteAddress());
        } else if (m instanceof Received r) {
            checkpoints.received(r.seq());
        } else if (m instanceof io.parityd.link.PreimageHeld h) {
            checkpoints.preimageHeld(h.id());
        } else if (m instanceof Assigned a) {
            if (a.role() == Role.STANDBY.code() && ch == standby) {
                checkpoints.standbyInSync(a.highestSeq());
                log.info("controller {}: standby in sync (holds every write through {}); writes wait for it again",
                        node.settings.id(), a.highestSeq());
            }
        } else {
            ReferenceCountUtil.release(m);
            log.warn("controller {}: a standby does not send {}: closing its link", node.settings.id(),
                    m.getClass().getSimpleName());
            ch.close();
        }
    }

    void standbyLinkClosed(Channel ch) {
        if (ch == standby) {
            standby = null;
            log.warn("controller {}: the standby's link closed{}", node.settings.id(),
                    checkpoints.standbyInSync() ? "; writes wait until it returns or the front lets this one go on"
                            + " alone" : "");
        }
    }

    /**
     * Sends a joining standby a copy of what this journal holds: every record (a data journal's
     * with its bytes), each degraded stripe's image, and a commands journal's marks as records of
     * their regions; then CatchUpEnd. Every record journaled since the standby asked goes to it
     * as well ({@link #sendRecord}), so between the two it holds everything; one that comes both
     * ways is held twice, which costs nothing.
     */
    private void catchUp(Channel ch) {
        try {
            controller.journaledSoFar().get(30, TimeUnit.SECONDS);
            long asOf = node.highestReceived();
            boolean commands = node.journal.mode() == JournalMode.COMMANDS;
            long sent = 0;
            for (PendingRequest p : node.journal.live()) {
                if (p.aux() <= 0) {
                    continue;
                }
                if (p.kind() == RecordKind.PREIMAGE) {
                    ByteBuffer image;
                    try {
                        image = node.journal.readData(p);
                    } catch (IOException retiredMeanwhile) {
                        continue;
                    }
                    ch.writeAndFlush(new io.parityd.link.PreimageRecord(0, p.aux(), p.offset(),
                            Unpooled.wrappedBuffer(image))).sync();
                    continue;
                }
                ByteBuf data = Unpooled.EMPTY_BUFFER;
                if (!commands) {
                    try {
                        data = Unpooled.wrappedBuffer(node.journal.readData(p));
                    } catch (IOException retiredMeanwhile) {
                        continue; // on the members now: the standby does not need it
                    }
                }
                ch.writeAndFlush(new CatchUpRecord(p.aux(), command(p.kind()), linkFlags(p.flags(), commands),
                        p.offset(), p.length(), data)).sync();
                sent++;
            }
            long marks = 0;
            if (commands) {
                for (io.parityd.nvram.RecoveryPlan.Mark m : node.journal.liveMarks()) {
                    // A region that may hold writes no member sync covered yet: held as a record
                    // of the whole region, it is resynced should the standby be promoted.
                    ch.writeAndFlush(new CatchUpRecord(Math.max(1, asOf), Command.WRITE, LinkFormat.FLAG_COMMAND_ONLY,
                            m.offset(), m.length())).sync();
                    marks++;
                }
            }
            ch.writeAndFlush(new CatchUpEnd(asOf)).sync();
            log.info("controller {}: sent a joining standby {} pending {}{}", node.settings.id(), sent,
                    commands ? "commands" : "requests", commands ? " and " + marks + " dirty regions" : "");
        } catch (Exception e) {
            log.error("controller {}: catch-up of the joining standby failed: {}", node.settings.id(), e.toString());
            ch.close();
        }
    }

    /** A journal record's flags on the link: FUA and MAY_DEALLOCATE carry over; COMMAND_ONLY for a commands journal. */
    private static int linkFlags(int journalFlags, boolean commands) {
        return (journalFlags & WriteFlags.JOURNALED) | (commands ? LinkFormat.FLAG_COMMAND_ONLY : 0);
    }

    /**
     * A record this controller just journaled goes to the standby, if one is linked (in sync or
     * still copying). Takes ownership of {@code data}.
     */
    private void sendRecord(long seq, RecordKind kind, long offset, long length, int flags, ByteBuf data) {
        Channel s = standby;
        boolean commands = data == null && kind == RecordKind.WRITE;
        if (s == null) {
            if (data != null) {
                data.release();
            }
            return;
        }
        s.writeAndFlush(new CatchUpRecord(seq, command(kind), linkFlags(flags, commands), offset, length,
                data == null ? Unpooled.EMPTY_BUFFER : data));
    }

    private static Command command(RecordKind kind) {
        return switch (kind) {
            case WRITE -> Command.WRITE;
            case TRIM -> Command.TRIM;
            case WRITE_ZEROES -> Command.WRITE_ZEROES;
            default -> throw new IllegalArgumentException("not a request: " + kind);
        };
    }

    private boolean sendPreimage(long id, long ownerSeq, long offset, ByteBuffer encoded) {
        Channel s = standby;
        if (s == null) {
            return false;
        }
        s.writeAndFlush(new io.parityd.link.PreimageRecord(id, ownerSeq, offset,
                Unpooled.copiedBuffer(encoded.duplicate()))); // the caller's buffer is valid only during the call
        return true;
    }

    private void sendRetired(long seq) {
        Channel s = standby;
        if (s != null) {
            s.writeAndFlush(new Retired(seq));
        }
    }

    /** Milliseconds the standby has kept writes waiting (0: none owed), for the front's view. */
    long standbyOwedMillis() {
        return TimeUnit.NANOSECONDS.toMillis(checkpoints.owedForNanos(node.roles.clock().nanos()));
    }

    /**
     * Every heartbeat: a standby that keeps writes waiting longer than the front's lease is
     * reported, so the front can decide to let this controller go on alone (after raising the
     * epoch). A link cut without a reset never closes, so silence is the only sign.
     */
    void tick() {
        long owed = standbyOwedMillis();
        long lease = Math.max(1, node.roles.leaseLength().toMillis());
        long now = System.nanoTime();
        if (owed > lease && now - lastPeerLostReport > TimeUnit.MILLISECONDS.toNanos(lease)) {
            lastPeerLostReport = now;
            log.warn("controller {}: the standby has kept writes waiting for {} ms; telling the front",
                    node.settings.id(), owed);
            node.toFront(new PeerLost(node.roles.epoch(), "the standby has not acknowledged writes for " + owed + " ms"));
        }
    }

    /**
     * The front lets this controller go on without its standby: raises the epoch in every
     * superblock first (the standby is outdated from then on, so it can never be promoted without
     * the writes that follow), then lets waiting writes through.
     */
    Assigned goOnAlone(long proposedEpoch) throws IOException {
        long epoch = Math.max(proposedEpoch, array.epoch() + 1);
        array.advanceEpoch(epoch);
        node.roles.epochRaised(epoch, "going on without the standby");
        node.state.inSyncAt(epoch);
        Channel s = standby;
        standby = null;
        checkpoints.goOnAlone();
        if (s != null) {
            s.close(); // it is outdated: it copies this journal again when it rejoins
        }
        log.warn("controller {}: going on WITHOUT a standby at epoch {} (the standby is outdated until it rejoins)",
                node.settings.id(), epoch);
        return new Assigned(epoch, Role.PRIMARY.code(), node.highestSeq(), "");
    }

    ArrayOperations operations() {
        return operations;
    }

    /** The checkpoint round trip in microseconds, -1 if none measured yet. */
    long checkpointMicros() {
        long n = checkpoints.roundTripNanos();
        return n < 0 ? -1 : n / 1000;
    }

    /** The standby as this primary sees it: linked and in sync, linked and copying, or none. */
    String standbyState() {
        return standby == null ? "none" : checkpoints.standbyInSync() ? "in sync" : "copying";
    }

    RecoveryReport recovery() {
        return recovery;
    }

    /**
     * A clean stop: requests under way finish (the caller stopped reading the front's link), every
     * record retires (the standby is told), the array is marked clean, the members close.
     */
    @Override
    public void close() throws Exception {
        Exception first = null;
        order.dropHeld(); // never started, never answered: the front resends them to the next primary
        checkpoints.close(); // what waits for the standby goes to the next primary instead
        try {
            controller.close();
        } catch (Exception e) {
            first = e;
        }
        operations.close();
        volume.stopRebuilds();
        if (first == null) {
            array.markClean();
        }
        volume.close();
        array.close();
        if (first != null) {
            throw first;
        }
    }
}
