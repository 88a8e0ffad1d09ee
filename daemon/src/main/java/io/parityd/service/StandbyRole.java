package io.parityd.service;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.parityd.controller.CommandRecovery;
import io.parityd.controller.Role;
import io.parityd.link.Assign;
import io.parityd.link.Assigned;
import io.parityd.link.CatchUpEnd;
import io.parityd.link.CatchUpRecord;
import io.parityd.link.CatchUpRequest;
import io.parityd.link.Command;
import io.parityd.link.Finished;
import io.parityd.link.LinkEstablished;
import io.parityd.link.LinkFormat;
import io.parityd.link.LinkPipeline;
import io.parityd.link.LinkRefused;
import io.parityd.link.LinkSide;
import io.parityd.link.NodeKind;
import io.parityd.link.Received;
import io.parityd.link.Request;
import io.parityd.link.Retired;
import io.parityd.nvram.JournalFormat;
import io.parityd.nvram.RecordKind;
import io.parityd.nvram.WriteFlags;
import io.parityd.replication.Links;
import io.parityd.replication.StandbyJournal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A controller while it is standby (DESIGN.md "The write path (HA mode)"): it holds every record
 * the primary journals in its own journal and tells the primary once each is durable; nothing
 * here touches a member, and nothing comes from the front (which sends every request to the
 * primary alone, and keeps its payload until answered).
 *
 * <p><b>Joining.</b> Assigned standby, it first records durably that it is behind (so a crash
 * midway never leaves it looking promotable), drops whatever its journal held (the primary may
 * have retired it since), takes the journal's mode, and asks the primary for a copy of its
 * journal; from that moment the primary also sends it every record it journals. Once the copy
 * ({@link CatchUpEnd}) and everything before it is durable, it is in sync: it records the epoch,
 * tells the primary (whose writes then wait for it again) and the front (which may then promote
 * it). A copy that cannot finish within {@link #JOIN_TIMEOUT} is abandoned: back to STARTING, and
 * the front asks again.
 */
final class StandbyRole implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StandbyRole.class);
    /** How long a copy may take: the primary's whole journal crosses a local network in far less. */
    static final Duration JOIN_TIMEOUT = Duration.ofSeconds(20);

    private final ControllerService node;
    private final Channel front;
    private final Assign assignment;
    private final StandbyJournal held;
    private volatile Channel primary;
    /** The boot id the primary announced on its link ("" before it linked, or if it could not tell). */
    private volatile String primaryBootId = "";
    private volatile boolean copying = true;
    private volatile boolean inSync;
    private volatile boolean stopped;

    private StandbyRole(ControllerService node, Channel front, Assign assignment) {
        this.node = node;
        this.front = front;
        this.assignment = assignment;
        this.held = new StandbyJournal(node.journal, node.settings.journal().regionBytes(),
                node.probe.geometry().volumeSize(), this::durableThrough);
    }

    /** Joins the primary at {@code assignment.primaryAddress()} (on the control thread). */
    static StandbyRole join(ControllerService node, Channel front, Assign assignment) throws IOException {
        node.roles.assignedStandby(assignment.epoch());
        node.state.inSyncAt(0);
        StandbyJournal.dropAll(node.journal, node.settings.journal().mode());
        StandbyRole role = new StandbyRole(node, front, assignment);
        log.info("controller {}: joining primary {} as standby at epoch {}, copying its journal ({})",
                node.settings.id(), assignment.primaryAddress(), assignment.epoch(), node.journal.mode().word());
        role.connect();
        node.control.schedule(() -> role.abandonIfCopying("the copy did not finish within "
                + JOIN_TIMEOUT.toSeconds() + " s"), JOIN_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        return role;
    }

    private void connect() {
        Links.connect(node.loops, Links.parse(assignment.primaryAddress(), "primary address"), ch -> {
            LinkPipeline.install(ch.pipeline(), LinkSide.DIALS, node.hello(), node.settings.secret(),
                    peer -> peer.kind() == NodeKind.CONTROLLER ? null : "expected the primary controller",
                    node.settings.linkTls());
            ch.pipeline().addLast(new PrimaryLink());
        }).addListener(f -> {
                    if (!f.isSuccess()) {
                        log.warn("controller {}: cannot reach the primary at {}: {}", node.settings.id(),
                                assignment.primaryAddress(), f.cause().toString());
                    }
                });
    }

    /** The link to the primary: the copy and every later record arrive on it, acknowledgements and retirements cross it. */
    private final class PrimaryLink extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof LinkEstablished) {
                if (stopped) {
                    ctx.close(); // the role ended while this link was connecting: it must not copy into the journal
                    return;
                }
                primary = ctx.channel();
                primaryBootId = ((LinkEstablished) evt).peer().bootId();
                ctx.writeAndFlush(new CatchUpRequest(assignment.epoch(), node.journal.mode().code()));
            } else if (evt instanceof LinkRefused r) {
                log.error("controller {}: the primary refused this standby: {}", node.settings.id(), r.reason());
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (stopped || ctx.channel() != primary) {
                ReferenceCountUtil.release(msg); // a role that ended writes nothing more to the journal
                ctx.close();
                return;
            }
            if (msg instanceof CatchUpRecord r) {
                hold(r);
            } else if (msg instanceof CatchUpEnd) {
                copied();
            } else if (msg instanceof Retired r) {
                held.retiredThrough(r.throughSeq());
            } else if (msg instanceof Finished f) {
                held.finished(f);
            } else if (msg instanceof io.parityd.link.PreimageRecord p) {
                holdPreimage(ctx.channel(), p);
            } else {
                log.warn("controller {}: a primary does not send {}: closing its link", node.settings.id(),
                        msg.getClass().getSimpleName());
                ReferenceCountUtil.release(msg);
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (primary == ctx.channel() && !stopped) {
                log.warn("controller {}: lost the link to the primary; the front reassigns this standby once the"
                        + " primary reports it", node.settings.id());
            }
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            io.parityd.controller.FatalErrors.haltOnOutOfMemory(cause);
            log.warn("controller {}: link to the primary failed: {}", node.settings.id(), cause.toString());
            ctx.close();
        }
    }

    /** A record of the primary's journal (its event loop): held in the order it came; released once appended. */
    private void hold(CatchUpRecord r) {
        int journalFlags = r.flags() & WriteFlags.JOURNALED;
        RecordKind kind = switch (r.command()) {
            case WRITE -> RecordKind.WRITE;
            case TRIM -> RecordKind.TRIM;
            case WRITE_ZEROES -> RecordKind.WRITE_ZEROES;
            default -> throw new IllegalArgumentException(r.command() + " is not held by a standby");
        };
        ByteBuf data = r.data();
        ByteBuffer bytes = r.command() != Command.WRITE || !data.isReadable() ? null
                : data.nioBufferCount() == 1 ? data.nioBuffer() : ByteBuffer.wrap(ByteBufUtil.getBytes(data));
        CompletableFuture<Void> appended;
        try {
            appended = held.hold(r.seq(), kind, r.offset(), r.length(), journalFlags, bytes);
        } catch (RuntimeException e) {
            r.release();
            log.error("controller {}: cannot hold record {}: {}", node.settings.id(), r.seq(), e.toString());
            return;
        }
        appended.whenComplete((v, err) -> {
            r.release();
            if (err != null) {
                log.error("controller {}: cannot hold record {}: {}", node.settings.id(), r.seq(), err.toString());
            }
        });
    }

    private void holdPreimage(Channel to, io.parityd.link.PreimageRecord p) {
        ByteBuf data = p.data();
        ByteBuffer encoded = data.nioBufferCount() == 1 ? data.nioBuffer() : ByteBuffer.wrap(ByteBufUtil.getBytes(data));
        long id = p.id();
        try {
            held.holdPreimage(p.ownerSeq(), p.offset(), encoded, () -> to.writeAndFlush(new io.parityd.link.PreimageHeld(id)));
        } finally {
            p.release();
        }
    }

    /** The primary has no requests for a standby; one that comes from the front is dropped. */
    void fromFront(Channel link, Request r) {
        r.release();
    }

    /** The copy failed: leave the role and tell the front, which assigns this controller again later. */
    private void abandonIfCopying(String why) {
        if (!copying || stopped) {
            return;
        }
        log.warn("controller {}: abandoning the join as standby: {}", node.settings.id(), why);
        node.control.execute(() -> node.standbyAbandoned(this, why));
    }

    /** The copy is all here (the primary's link): once it and everything before it is durable, in sync. */
    private void copied() {
        if (stopped) {
            return;
        }
        held.heldSoFar().whenCompleteAsync((v, err) -> {
            if (err != null) {
                log.error("controller {}: the copied journal could not be made durable: {}", node.settings.id(),
                        err.toString());
                return;
            }
            copying = false;
            inSync();
        }, node.control);
    }

    private void inSync() {
        if (stopped) {
            return;
        }
        try {
            node.roles.caughtUp(assignment.epoch());
            node.state.inSyncAt(assignment.epoch());
        } catch (IOException | RuntimeException e) {
            log.error("controller {}: cannot record being in sync: {}", node.settings.id(), e.toString());
            return;
        }
        inSync = true; // first: what becomes durable from now on is acknowledged, what was is in "through"
        long through = held.highestDurable();
        log.info("controller {} is STANDBY at epoch {}: holds every record through front seq {}", node.settings.id(),
                assignment.epoch(), through);
        Channel p = primary;
        if (p != null) {
            p.writeAndFlush(new Assigned(assignment.epoch(), Role.STANDBY.code(), through, ""));
        }
        node.toFront(new Assigned(assignment.epoch(), Role.STANDBY.code(), through, ""));
    }

    /** Acknowledgements are for the primary only once in sync: before, it does not wait for them. */
    private void durableThrough(long seq) {
        Channel p = primary;
        if (p != null && inSync) {
            p.writeAndFlush(new Received(seq));
        }
    }

    long highestHeld() {
        return held.highestHeld();
    }

    /** Stops holding: the journal now belongs to the primary this controller becomes. */
    void stopForPromotion() throws InterruptedException {
        close();
    }

    /**
     * What the old primary leaves behind that outlives it, for the promotion's resync; null if
     * nothing may be assumed. Its finished writes survive it only in a page cache this host
     * shares: same kernel boot (a power loss would have rebooted this controller too). Across
     * hosts, or when either boot id is unknown, everything held and marked is resynced.
     */
    CommandRecovery.Survivors survivors() {
        String ours = Links.bootId();
        if (ours.isEmpty() || !ours.equals(primaryBootId)) {
            return null;
        }
        return new CommandRecovery.Survivors(held.finishedSeqs(),
                node.settings.journal().regionBytes());
    }

    @Override
    public void close() {
        stopped = true;
        Channel p = primary;
        if (p != null) {
            p.close();
        }
        try {
            held.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
