package io.parityd.it;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A TCP proxy that sits between a test's peers (front ↔ controller, controller ↔ controller) and
 * breaks the link on command, the way a network does: {@link #cut()} resets every connection,
 * {@link #blackhole(boolean)} loses bytes while TCP sees a healthy connection, and
 * {@link #pause(boolean)} stops reading so bytes wait in kernel buffers. HA tests use it to
 * check that a partition fences the primary and stalls clients instead of failing them (DESIGN.md
 * "Failover and fencing", G3, G4), without root, iptables or sleeps.
 *
 * <p>Listens on 127.0.0.1 only. Each accepted connection gets its own connection to the target,
 * on the same event loop, so the state of one pair is only ever touched by one thread. A control
 * returns once it holds for every existing connection, and holds for new ones from then on; call
 * controls from test threads, not from an event loop. Half-closes are not relayed: when either
 * side closes, the proxy closes the other after flushing what it already read.
 */
public final class FaultProxy implements AutoCloseable {

    private static final long CONTROL_TIMEOUT_SECONDS = 10;

    private final InetSocketAddress target;
    private final EventLoopGroup loops;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final AtomicLong forwarded = new AtomicLong();
    private final Channel listener;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean cut;
    private volatile boolean blackholed;
    private volatile boolean paused;

    private FaultProxy(InetSocketAddress target) throws InterruptedException {
        this.target = target;
        this.loops = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("fault-proxy", true), NioIoHandler.newFactory());
        try {
            this.listener = new ServerBootstrap()
                    .group(loops)
                    .channel(NioServerSocketChannel.class)
                    // nothing is read from a client before its pair exists and the faults are applied
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel client) {
                            accepted(client);
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** A proxy on 127.0.0.1 and a free port that forwards every connection to {@code target}. */
    public static FaultProxy start(InetSocketAddress target) {
        Objects.requireNonNull(target, "target");
        try {
            return new FaultProxy(target);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting a proxy to " + target, e);
        }
    }

    /** The port clients connect to. */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /**
     * Resets every open connection on both sides (SO_LINGER 0, so the peers see RST, not FIN) and
     * resets each new one right after accepting it, until {@link #restore()}.
     */
    public void cut() {
        cut = true;
        onEveryLink(Link::reset);
    }

    /**
     * While on, reads on and silently drops every byte in both directions, on open and new
     * connections alike: a partition that TCP does not notice. Bytes read before this returned
     * may still have been forwarded; none read after it are.
     */
    public void blackhole(boolean on) {
        blackholed = on;
        // a task on each loop: once it ran, every later read there sees the flag
        onEveryLink(link -> { });
    }

    /**
     * While on, reads nothing from either side, so bytes wait in kernel buffers and senders are
     * slowed by TCP's own flow control; turning it off delivers them in order.
     */
    public void pause(boolean on) {
        paused = on;
        onEveryLink(Link::applyReadState);
    }

    /** Ends every fault: new connections are forwarded again, bytes flow, reading resumes. */
    public void restore() {
        cut = false;
        blackholed = false;
        paused = false;
        onEveryLink(Link::applyReadState);
    }

    /** Bytes written on to the other side so far, both directions together. */
    public long bytesForwarded() {
        return forwarded.get();
    }

    /** Client connections open now. */
    public int connections() {
        return links.size();
    }

    /** Closes the listener and every connection, and stops the proxy's threads. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            listener.close().awaitUninterruptibly(CONTROL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            onEveryLink(Link::close);
        } finally {
            Future<?> stopped = loops.shutdownGracefully(0, CONTROL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (!stopped.awaitUninterruptibly(2 * CONTROL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("fault proxy threads did not stop in " + 2 * CONTROL_TIMEOUT_SECONDS + " s");
            }
        }
    }

    @Override
    public String toString() {
        return "fault proxy 127.0.0.1:" + port() + " → " + target;
    }

    // ---- connections ----------------------------------------------------------------------

    /** Runs on the client channel's loop, before it is active. */
    private void accepted(SocketChannel client) {
        Link link = new Link(client);
        links.add(link);
        client.closeFuture().addListener(f -> {
            links.remove(link);
            link.close();
        });
        client.pipeline().addLast(new Relay(link, true));
        if (cut) {
            // accept, then reset: the client's connect succeeds and its first read fails, as behind a
            // firewall that rejects; cut() may be resetting it too, which is harmless
            client.eventLoop().execute(link::reset);
            return;
        }
        new Bootstrap()
                .group(client.eventLoop())
                .channel(NioSocketChannel.class)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new Relay(link, false))
                .connect(target)
                .addListener((ChannelFutureListener) f -> link.targetConnected(f.isSuccess() ? f.channel() : null));
    }

    /**
     * Runs {@code action} on the loop of every open connection and waits until each has run, so
     * a control holds once it returns. Links accepted meanwhile read the flags themselves.
     */
    private void onEveryLink(Consumer<Link> action) {
        List<Future<?>> done = new ArrayList<>();
        for (Link link : links) {
            EventLoop loop = link.client.eventLoop();
            done.add(loop.submit(() -> action.accept(link)));
        }
        for (Future<?> f : done) {
            if (!f.awaitUninterruptibly(CONTROL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("a fault proxy loop did not answer in " + CONTROL_TIMEOUT_SECONDS + " s");
            }
        }
    }

    /** One client connection and its connection to the target; touched only on their loop. */
    private final class Link {

        final Channel client;
        Channel server;

        Link(Channel client) {
            this.client = client;
        }

        void targetConnected(Channel connected) {
            if (connected == null) {
                reset(); // the target refused: the client sees what it would have seen without us
                return;
            }
            server = connected;
            if (!client.isActive() || cut) {
                reset();
                return;
            }
            server.closeFuture().addListener(f -> close());
            applyReadState();
        }

        Channel peer(boolean ofClient) {
            return ofClient ? server : client;
        }

        /** Reads while not paused and while the other side takes more without queueing. */
        void applyReadState() {
            if (server == null) {
                return;
            }
            client.config().setAutoRead(!paused && server.isWritable());
            server.config().setAutoRead(!paused && client.isWritable());
        }

        void reset() {
            abort(client);
            abort(server);
        }

        private void abort(Channel ch) {
            if (ch != null && ch.isOpen()) {
                ch.config().setOption(ChannelOption.SO_LINGER, 0);
                ch.close();
            }
        }

        /** Closes both sides after what was already read has gone out. */
        void close() {
            flushAndClose(client);
            flushAndClose(server);
        }

        private void flushAndClose(Channel ch) {
            if (ch != null && ch.isActive()) {
                ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else if (ch != null) {
                ch.close();
            }
        }
    }

    /** Moves bytes from one side of a link to the other, unless a fault says otherwise. */
    private final class Relay extends ChannelInboundHandlerAdapter {

        private final Link link;
        private final boolean clientSide;

        Relay(Link link, boolean clientSide) {
            this.link = link;
            this.clientSide = clientSide;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel peer = link.peer(clientSide);
            if (blackholed || peer == null || !peer.isActive()) {
                ReferenceCountUtil.release(msg);
                return;
            }
            forwarded.addAndGet(((ByteBuf) msg).readableBytes());
            peer.writeAndFlush(msg);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            link.applyReadState();
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            link.close();
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // a reset or a broken pipe on one side: the other side learns of it by a reset too
            link.reset();
        }
    }
}
