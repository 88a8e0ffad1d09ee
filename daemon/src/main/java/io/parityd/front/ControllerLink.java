package io.parityd.front;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import io.parityd.link.Heartbeat;
import io.parityd.link.Hello;
import io.parityd.link.LinkEstablished;
import io.parityd.link.LinkMessage;
import io.parityd.link.LinkPipeline;
import io.parityd.link.LinkRefused;
import io.parityd.link.LinkSecret;
import io.parityd.link.LinkSide;
import io.parityd.link.NodeKind;
import io.parityd.link.Reply;
import io.parityd.link.Request;
import io.parityd.replication.Links;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front's link to one controller: connects (and reconnects, every {@link #RETRY}), proves the
 * shared secret, sends heartbeats that carry the lease, and passes everything the controller says
 * to the {@link Arbiter} (role changes) or the {@link ClusterController} (answers). It remembers
 * the controller's last Hello, which is what fencing needs (its pid and host).
 */
final class ControllerLink implements ClusterController.Target {

    private static final Logger log = LoggerFactory.getLogger(ControllerLink.class);
    static final Duration RETRY = Duration.ofMillis(200);

    /** What the link reports; called on the link's event loop. */
    interface Listener {
        void up(ControllerLink link, Hello hello);

        void message(ControllerLink link, LinkMessage m);

        void down(ControllerLink link, String why);
    }

    private final String id;
    private final InetSocketAddress address;
    private final EventLoopGroup loops;
    private final Supplier<Hello> hello;
    private final LinkSecret secret;
    private final Listener listener;
    private final io.parityd.link.HelloCheck arrayCheck;
    private volatile Channel channel;
    private volatile Hello peer;
    private volatile long lastHeardNanos;
    private volatile long roundTripNanos = -1;
    private volatile long lastEpoch = -1;
    private volatile boolean closed;

    private final io.parityd.link.LinkTls tls;

    ControllerLink(String id, InetSocketAddress address, EventLoopGroup loops, Supplier<Hello> hello, LinkSecret secret,
                   Listener listener, io.parityd.link.HelloCheck arrayCheck) {
        this(id, address, loops, hello, secret, null, listener, arrayCheck);
    }

    /** @param tls mutual TLS on this link, or null for none */
    ControllerLink(String id, InetSocketAddress address, EventLoopGroup loops, Supplier<Hello> hello, LinkSecret secret,
                   io.parityd.link.LinkTls tls, Listener listener, io.parityd.link.HelloCheck arrayCheck) {
        this.tls = tls;
        this.id = id;
        this.address = address;
        this.loops = loops;
        this.hello = hello;
        this.secret = secret;
        this.listener = listener;
        this.arrayCheck = arrayCheck;
    }

    @Override
    public String name() {
        return id;
    }

    InetSocketAddress address() {
        return address;
    }

    /** The controller's Hello on the current (or last) connection; null before the first. */
    Hello hello() {
        return peer;
    }

    boolean connected() {
        Channel c = channel;
        return c != null && c.isActive();
    }

    long lastHeardNanos() {
        return lastHeardNanos;
    }

    /** The epoch the controller last said it acts in (Hello, then heartbeats); -1 before the first. */
    long lastEpoch() {
        return lastEpoch;
    }

    /** The last heartbeat round trip, or -1 before the first. */
    long roundTripNanos() {
        return roundTripNanos;
    }

    void start() {
        connect();
    }

    private void connect() {
        if (closed) {
            return;
        }
        Links.connect(loops, address, ch -> {
            LinkPipeline.install(ch.pipeline(), LinkSide.DIALS, hello.get(), secret, this::check, tls);
            ch.pipeline().addLast(new Handler());
        }).addListener(f -> {
                    if (!f.isSuccess()) {
                        retryLater();
                    }
                });
    }

    private String check(Hello h) {
        if (h.kind() != NodeKind.CONTROLLER) {
            return "expected controller " + id + ", found a " + h.kind();
        }
        if (!h.nodeId().equals(id)) {
            return "expected controller " + id + " at " + Links.format(address) + ", found controller " + h.nodeId();
        }
        return arrayCheck.check(h);
    }

    /** The longest wait between attempts that were refused: a wrong secret or array does not fix itself. */
    static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    /** Attempts in a row that connected but were refused or failed the handshake (link event loops only). */
    private int refusedInARow;
    private String lastRefusal = "";
    private long lastRefusalLoggedNanos;
    private int refusalsUnlogged;

    private void retryLater() {
        retryLater(RETRY);
    }

    private void retryLater(Duration after) {
        if (!closed) {
            loops.next().schedule(this::connect, after.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * A connection that never got through the handshake: try again, waiting twice as long each
     * time (up to {@link #MAX_BACKOFF}). A controller that is down refuses the TCP connection
     * instead, and is dialled every {@link #RETRY}: it may be restarting, and a failover waits.
     */
    private Duration backoff() {
        refusedInARow = Math.min(refusedInARow + 1, 16);
        long millis = Math.min(MAX_BACKOFF.toMillis(), RETRY.toMillis() << Math.min(refusedInARow, 10));
        return Duration.ofMillis(millis);
    }

    /** Logs a refusal the first time, when the reason changes, and then once a minute with a count. */
    private void logRefusal(String reason) {
        long now = System.nanoTime();
        if (!reason.equals(lastRefusal) || now - lastRefusalLoggedNanos > TimeUnit.MINUTES.toNanos(1)) {
            log.error("front: controller {} refused the link: {}{}", id, reason,
                    refusalsUnlogged == 0 ? "" : " (" + refusalsUnlogged + " more refusals since the last message)");
            lastRefusal = reason;
            lastRefusalLoggedNanos = now;
            refusalsUnlogged = 0;
        } else {
            refusalsUnlogged++;
        }
    }

    @Override
    public void send(Request r) {
        Channel c = channel;
        if (c == null) {
            r.release(); // down: resent once a primary serves again
            return;
        }
        c.writeAndFlush(r);
    }

    /** Sends a control message (assignment, heartbeat). */
    void tell(LinkMessage m) {
        Channel c = channel;
        if (c == null) {
            ReferenceCountUtil.release(m);
            return;
        }
        c.writeAndFlush(m);
    }

    /** Drops the connection (the controller stopped answering); it reconnects by itself. */
    void drop() {
        Channel c = channel;
        if (c != null) {
            c.close();
        }
    }

    void close() {
        closed = true;
        drop();
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        /** Whether this connection got through the handshake. */
        private boolean linked;

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof LinkEstablished e) {
                linked = true;
                refusedInARow = 0;
                lastRefusal = "";
                peer = e.peer();
                lastEpoch = e.peer().epoch();
                lastHeardNanos = System.nanoTime();
                channel = ctx.channel();
                log.info("front: linked to controller {} at {} (pid {}, role {}, epoch {}, in sync at {})", id,
                        Links.format(address), e.peer().pid(), e.peer().role(), e.peer().epoch(),
                        e.peer().inSyncEpoch());
                listener.up(ControllerLink.this, e.peer());
            } else if (evt instanceof LinkRefused r) {
                logRefusal(r.reason());
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            lastHeardNanos = System.nanoTime();
            if (msg instanceof Heartbeat h) {
                lastEpoch = h.epoch();
                if (h.echoNanos() != 0) {
                    roundTripNanos = System.nanoTime() - h.echoNanos();
                }
            }
            if (!(msg instanceof Reply || msg instanceof Heartbeat || msg instanceof io.parityd.link.Assigned
                    || msg instanceof io.parityd.link.PeerLost || msg instanceof io.parityd.link.ArrayInfo)) {
                // Only what a controller may tell a front is taken from its link.
                log.warn("front: controller {} sent {}, which a controller never sends a front: closing the link", id,
                        msg.getClass().getSimpleName());
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            listener.message(ControllerLink.this, (LinkMessage) msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (channel == ctx.channel()) {
                channel = null;
                listener.down(ControllerLink.this, "link closed");
            }
            retryLater(linked ? RETRY : backoff());
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            io.parityd.controller.FatalErrors.haltOnOutOfMemory(cause);
            log.warn("front: link to controller {} failed: {}", id, cause.toString());
            ctx.close();
        }
    }
}
