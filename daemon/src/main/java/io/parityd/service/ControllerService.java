package io.parityd.service;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import io.parityd.controller.Role;
import io.parityd.controller.RoleMachine;
import io.parityd.controller.MonotonicClock;
import io.parityd.link.ArrayInfo;
import io.parityd.link.Assign;
import io.parityd.link.Heartbeat;
import io.parityd.link.Hello;
import io.parityd.link.LinkEstablished;
import io.parityd.link.LinkMessage;
import io.parityd.link.LinkPipeline;
import io.parityd.link.LinkRefused;
import io.parityd.link.LinkSide;
import io.parityd.link.NodeKind;
import io.parityd.link.Request;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalException;
import io.parityd.nvram.JournalOptions;
import io.parityd.raid.ArrayException;
import io.parityd.raid.ArrayProbe;
import io.parityd.replication.ControllerSettings;
import io.parityd.replication.ControllerState;
import io.parityd.replication.Links;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One controller process of an HA pair (DESIGN.md "Processes", "The write path (HA mode)"): it
 * listens for the front and for its peer, keeps its own journal, and plays the role the front
 * assigns: standby (holds every write image until the primary retires it; {@link StandbyRole})
 * or primary (the one writer of the members; {@link PrimaryRole}). It never picks a role itself:
 * the front is the arbiter.
 *
 * <p>Threads: links run on their event loops; role changes (promotion, joining as standby,
 * standing down) run one at a time on the {@code parityd-control} thread, so a role object is
 * built completely before any link sees it.
 *
 * <p><b>Standing down.</b> A primary that learns of a higher epoch than its own (the front
 * promoted the other controller while this one was paused or cut off) halts the process at once,
 * without flushing or marking anything: it must not write a member again. Under systemd it
 * restarts and rejoins as standby.
 */
public final class ControllerService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ControllerService.class);
    /** How often this controller tells the front it is alive (the front's lease is several times this). */
    static final Duration HEARTBEAT = Duration.ofMillis(100);

    final ControllerSettings settings;
    final ArrayProbe probe;
    final Journal journal;
    final ControllerState state;
    final RoleMachine roles;
    final ScheduledExecutorService control;
    final EventLoopGroup loops;
    private final Channel listener;
    private final String advertise;
    private final Runnable halt;
    private io.parityd.admin.AdminServer admin;
    /** Null unless --metrics; the primary's member failures and mismatches are counted here. */
    io.parityd.metrics.Metrics metrics;

    private volatile Channel front;
    /** Numbers the front's links as they are established (see FrontLinkOrder). */
    private final java.util.concurrent.atomic.AtomicLong frontLinks = new java.util.concurrent.atomic.AtomicLong();
    private volatile PrimaryRole primary;
    private volatile StandbyRole standby;
    /** The highest seq the front sent here (any command): the primary's catch-up waits for it. */
    private volatile long highestReceived;
    private volatile long lastFrontEcho;
    /**
     * Set by a clean stop: new requests are dropped unanswered, but heartbeats are still answered,
     * so the front does not take a primary that is flushing for a dead one and fence it midway.
     */
    private volatile boolean stopping;

    private ControllerService(ControllerSettings settings, ArrayProbe probe, Journal journal, ControllerState state,
                              Runnable halt) throws IOException {
        this.settings = settings;
        this.probe = probe;
        this.journal = journal;
        this.state = state;
        this.halt = halt;
        this.roles = new RoleMachine(settings.id(), MonotonicClock.SYSTEM);
        this.control = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "parityd-control");
            t.setDaemon(true);
            return t;
        });
        this.loops = Links.group("parityd-link", 2);
        try {
            this.listener = Links.listen(loops, settings.listen(), ch -> {
                LinkPipeline.install(ch.pipeline(), LinkSide.ANSWERS, hello(), settings.secret(), this::checkPeer,
                        settings.linkTls());
                ch.pipeline().addLast(new Inbound());
            });
        } catch (IOException | RuntimeException e) {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            control.shutdownNow();
            throw e;
        }
        InetSocketAddress bound = (InetSocketAddress) listener.localAddress();
        this.advertise = settings.advertise() != null ? settings.advertise() : Links.format(bound);
        control.scheduleWithFixedDelay(this::tick, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Reads the array's identity from its members (read-only: the primary holds them), opens this
     * controller's journal and state, and listens. Starts as STARTING: the front assigns the role.
     *
     * @param halt what standing down does: stops the process at once (tests may do otherwise)
     */
    public static ControllerService start(ControllerSettings settings, Runnable halt) throws ArrayException, IOException {
        ArrayProbe probe = ArrayProbe.of(settings.currentMembers());
        var g = probe.geometry();
        JournalOptions options = new JournalOptions(settings.journal().path(), g.arrayUuid(), g.name(), null,
                settings.journal().capacity(), settings.journal().nonVolatile(), settings.journal().discard(),
                JournalOptions.SyncHook.NONE, settings.journal().mode());
        Journal journal;
        try {
            journal = Journal.open(options);
        } catch (JournalException e) {
            throw new ArrayException(e.getMessage(), JournalFix.fixFor(e.problem(), settings.journal().path()), e);
        }
        try {
            ControllerState state = ControllerState.load(settings.journal().path(), g.arrayUuid(), settings.id());
            ControllerService service = new ControllerService(settings, probe, journal, state, halt);
            Path socket = settings.adminSocket() != null ? settings.adminSocket()
                    : io.parityd.admin.AdminPaths.defaultFor(g.name() + "-" + settings.id());
            try {
                service.admin = io.parityd.admin.AdminServer.start(socket, new ControllerControl(service));
            } catch (IOException | RuntimeException e) {
                try {
                    service.close(); // closes the journal too
                } catch (Exception closing) {
                    e.addSuppressed(closing);
                }
                throw new ArrayException("cannot open the admin socket " + socket + ": " + e.getMessage(),
                        "choose another with --admin-socket, or remove a stale one left by a crash", e);
            }
            log.info("admin socket for controller {}: {} (parityd status --admin-socket {})", settings.id(), socket,
                    socket);
            if (settings.metrics() != null) {
                io.parityd.metrics.Metrics m = new io.parityd.metrics.Metrics();
                service.metrics = m;
                m.counters(g.memberCount());
                m.journal(journal);
                try {
                    m.serve(settings.metrics(), new ControllerControl(service)::status, g.memberCount());
                } catch (IOException e) {
                    try {
                        service.close();
                    } catch (Exception closing) {
                        e.addSuppressed(closing);
                    }
                    throw e;
                }
            }
            log.info("controller {} of array '{}' ({}) listening on {} (peers reach it at {}); journal {} holds {}"
                            + " requests; array epoch {}, {}; this controller is in sync at epoch {}",
                    settings.id(), g.name(), g.arrayUuid(), Links.format((InetSocketAddress) service.listener.localAddress()),
                    service.advertise, settings.journal().path(), journal.plan().requests().size(), probe.epoch(),
                    probe.clean() ? "clean" : "dirty", state.inSyncEpoch());
            if (settings.linkTls() != null) {
                log.info("controller {}: links under mutual TLS; a peer that links without it is refused", settings.id());
            }
            return service;
        } catch (IOException | RuntimeException e) {
            journal.close();
            throw e;
        }
    }

    /** Where this controller listens (with the kernel's port when 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** The address peers dial. */
    String advertise() {
        return advertise;
    }

    /**
     * The Hello this controller sends: its role, the array epoch it knows, and the epoch it is in
     * sync at. A clean array has nothing pending anywhere, so any controller is current for it.
     */
    Hello hello() {
        long epoch = Math.max(roles.epoch(), probe.epoch());
        long current = roles.role() == Role.PRIMARY || roles.role() == Role.STANDBY ? roles.inSyncEpoch()
                : probe.clean() && roles.role() == Role.STARTING ? epoch : state.inSyncEpoch();
        return Hello.create(NodeKind.CONTROLLER, settings.id(), probe.geometry().arrayUuid(), Links.bootId(), Links.pid(),
                roles.role().code(), epoch, current, highestSeq(), advertise == null ? "" : advertise);
    }

    /** The highest front seq this controller holds or has answered. */
    long highestSeq() {
        StandbyRole s = standby;
        return Math.max(highestReceived, s == null ? 0 : s.highestHeld());
    }

    long highestReceived() {
        return highestReceived;
    }

    private String checkPeer(Hello peer) {
        return peer.kind() == NodeKind.FRONT || peer.kind() == NodeKind.CONTROLLER ? null
                : "unexpected " + peer.kind();
    }

    // ---- links ---------------------------------------------------------------------------------

    /** Every accepted link: the front's, or a standby's (when this controller is primary). */
    private final class Inbound extends ChannelInboundHandlerAdapter {
        private Hello peer;
        /** This link's place among the front's links, in the order they were established. */
        private long frontLink;

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof LinkEstablished e) {
                peer = e.peer();
                if (peer.kind() == NodeKind.FRONT) {
                    Channel old = front;
                    frontLink = frontLinks.incrementAndGet();
                    front = ctx.channel();
                    log.info("controller {}: front {} connected from {}", settings.id(), peer.nodeId(),
                            ctx.channel().remoteAddress());
                    if (old != null && old != ctx.channel()) {
                        // A restarted front, or one that dropped this controller and dialled again
                        // before the old link's close reached here. Whatever the old link assigned
                        // ends now, before the control thread sees anything the new one says:
                        // its channelInactive, when it comes, is no longer the front's.
                        log.info("controller {}: the front's new link replaces the old one", settings.id());
                        old.close();
                        control.execute(ControllerService.this::lostFront);
                    }
                    var g = probe.geometry();
                    ctx.writeAndFlush(new ArrayInfo(g.arrayUuid(), g.name(), g.volumeSize(),
                            SingleProcessService.description(g) + " (HA pair)"));
                } else {
                    log.info("controller {}: peer controller {} connected from {}", settings.id(), peer.nodeId(),
                            ctx.channel().remoteAddress());
                }
            } else if (evt instanceof LinkRefused r) {
                log.warn("controller {}: link from {} refused: {}", settings.id(), ctx.channel().remoteAddress(),
                        r.reason());
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (peer == null) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (peer.kind() == NodeKind.FRONT) {
                fromFront(ctx.channel(), frontLink, (LinkMessage) msg);
            } else {
                PrimaryRole p = primary;
                if (p != null) {
                    p.fromStandby(ctx.channel(), (LinkMessage) msg);
                } else {
                    ReferenceCountUtil.release(msg);
                    ctx.close(); // not primary: a controller has no business linking here
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (peer != null && peer.kind() == NodeKind.FRONT && front == ctx.channel()) {
                front = null;
                log.warn("controller {}: lost the front's link", settings.id());
                control.execute(ControllerService.this::lostFront);
            } else if (peer != null && peer.kind() == NodeKind.CONTROLLER) {
                PrimaryRole p = primary;
                if (p != null) {
                    p.standbyLinkClosed(ctx.channel());
                }
            }
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            io.parityd.controller.FatalErrors.haltOnOutOfMemory(cause);
            log.warn("controller {}: link {} failed: {}", settings.id(), ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }

    /** A message from the front, on its link's event loop. */
    private void fromFront(Channel ch, long link, LinkMessage m) {
        if (m instanceof Request r) {
            fromFront(ch, link, r);
        } else if (m instanceof Heartbeat h) {
            heartbeat(ch, h);
        } else if (m instanceof Assign a) {
            control.execute(() -> assign(ch, a));
        } else {
            // Only what a front may send is taken from its link; anything else is a protocol error.
            ReferenceCountUtil.release(m);
            log.warn("controller {}: a front does not send {}: closing its link", settings.id(),
                    m.getClass().getSimpleName());
            ch.close();
        }
    }

    private void fromFront(Channel ch, long link, Request r) {
        if (stopping) {
            r.release(); // unanswered: the front resends it to the next primary
            return;
        }
        if (r.seq() > highestReceived) {
            highestReceived = r.seq();
        }
        PrimaryRole p = primary;
        if (p != null) {
            p.execute(ch, link, r);
            return;
        }
        StandbyRole s = standby;
        if (s != null) {
            s.fromFront(ch, r);
            return;
        }
        r.release(); // STARTING or FENCED: the front resends it to whoever serves
    }

    private void heartbeat(Channel ch, Heartbeat h) {
        lastFrontEcho = h.sentNanos();
        if (h.epoch() > roles.epoch() && roles.role() == Role.PRIMARY) {
            standDown("the front acts in epoch " + h.epoch() + ", above this primary's " + roles.epoch());
            return;
        }
        if (h.epoch() >= 1 && h.leaseMillis() > 0) {
            roles.leaseRenewed(h.epoch(), Duration.ofMillis(h.leaseMillis()));
        }
        PrimaryRole p = primary;
        ch.writeAndFlush(new Heartbeat(System.nanoTime(), h.sentNanos(), roles.epoch(), roles.role().code(),
                highestSeq(), p == null ? 0 : p.standbyOwedMillis()));
    }

    /** The front assigned a role (on the control thread). */
    private void assign(Channel ch, Assign a) {
        Role to = Role.fromCode(a.role());
        try {
            switch (to) {
                case PRIMARY -> {
                    if (primary != null) {
                        ch.writeAndFlush(primary.goOnAlone(a.epoch()));
                    } else {
                        StandbyRole s = standby;
                        standby = null;
                        PrimaryRole p = PrimaryRole.promote(this, a.epoch(), s);
                        primary = p;
                        ch.writeAndFlush(p.assigned());
                    }
                }
                case STANDBY -> {
                    StandbyRole old = standby;
                    standby = null;
                    if (old != null) {
                        old.close();
                    }
                    if (roles.role() == Role.RESYNCING) {
                        // Asked again mid-copy (the front gave up waiting, or lost and found this
                        // controller): the copy under way is dropped and starts over.
                        roles.copyAborted("the front assigned this controller as standby again");
                    }
                    standby = StandbyRole.join(this, ch, a);
                }
                default -> throw new IllegalArgumentException("the front cannot assign " + to);
            }
        } catch (Exception e) {
            log.error("controller {}: cannot become {} at epoch {}: {}", settings.id(), to, a.epoch(), e.getMessage());
            ch.writeAndFlush(new io.parityd.link.Assigned(roles.epoch(), roles.role().code(), highestSeq(),
                    "cannot become " + to + ": " + e.getMessage()));
        }
    }

    /**
     * A join as standby failed (control thread): the role goes, this controller waits for the
     * front again, and the front hears why.
     */
    void standbyAbandoned(StandbyRole role, String why) {
        if (standby != role) {
            return;
        }
        standby = null;
        role.close();
        roles.copyAborted(why);
        toFront(new io.parityd.link.Assigned(roles.epoch(), Role.STARTING.code(), highestSeq(),
                "could not join as standby: " + why));
    }

    /** Standby gone: no role; the front reassigns. Primary: keeps its members; its lease runs out. */
    private void lostFront() {
        if (roles.role() == Role.STANDBY || roles.role() == Role.RESYNCING) {
            StandbyRole s = standby;
            standby = null;
            if (s != null) {
                s.close();
            }
            roles.lostFront();
        }
    }

    private void tick() {
        PrimaryRole p = primary;
        if (p != null) {
            p.tick();
        }
    }

    /**
     * This controller must not write again: halts the process (see the class comment). Logged
     * first, flushed by the logging backend's own synchronous write.
     */
    void standDown(String why) {
        log.error("controller {} STANDS DOWN: {}. It writes nothing more; restart it to rejoin as standby", settings.id(),
                why);
        roles.standDown(why);
        halt.run();
    }

    /** Tells the front (if connected) something on the front's link. */
    void toFront(LinkMessage m) {
        Channel f = front;
        if (f != null) {
            f.writeAndFlush(m);
        } else {
            ReferenceCountUtil.release(m);
        }
    }

    Channel frontChannel() {
        return front;
    }

    PrimaryRole primaryRole() {
        return primary;
    }

    /**
     * A clean stop: a primary stops taking requests (the front resends unanswered ones to the next
     * primary, once this process is gone and the other is promoted), finishes those under way,
     * retires everything and marks the array clean, answering the front's heartbeats all along;
     * a standby just goes. Then the journal closes.
     */
    @Override
    public void close() throws Exception {
        Exception first = null;
        if (metrics != null) {
            metrics.close();
        }
        if (admin != null) {
            admin.close();
        }
        stopping = true;
        PrimaryRole p = primary;
        StandbyRole s = standby;
        standby = null;
        try {
            if (p != null) {
                p.close(); // still primary meanwhile: the standby's acknowledgements keep arriving
            } else if (s != null) {
                s.close();
            }
        } catch (Exception e) {
            first = e;
        }
        primary = null;
        try {
            if (p == null) {
                journal.close(); // what it holds is the primary's business, and is copied at the next join
            }
        } catch (IOException e) {
            if (first == null) {
                first = e;
            }
        }
        // The links go last: until they close the front keeps this controller alive rather than
        // fencing it in the middle of its flush.
        log.info("controller {} stopped", settings.id());
        listener.close().syncUninterruptibly();
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        control.shutdownNow();
        if (first != null) {
            throw first;
        }
    }
}
