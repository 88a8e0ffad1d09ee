package io.parityd.front;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.internal.PlatformDependent;
import io.netty.util.concurrent.ScheduledFuture;
import io.parityd.controller.Admission;
import io.parityd.controller.Controller;
import io.parityd.protocol.ConnectionLogs;
import io.parityd.protocol.LogThrottle;
import io.parityd.protocol.NbdServerPipeline;
import io.parityd.protocol.PayloadBudget;
import io.parityd.protocol.PayloadMemory;
import io.parityd.protocol.Session;
import io.parityd.protocol.TransmissionHandlerFactory;
import io.parityd.unix.SocketFile;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NBD server of the front: listens, runs the handshake on each connection, and hands the
 * transmission phase to a {@link TransmissionHandler} bound to the controller. Stopping it is
 * orderly: new clients are refused, connected ones finish what they have in flight, then close
 * (proto.md: a server shutting down SHOULD wait for in-flight requests).
 *
 * <p>It also carries the controller's {@link Admission} to every connection: while it is closed no
 * connection in the transmission phase reads new requests (DESIGN.md "NVRAM": backpressure, never
 * an error), and when it opens each resumes on its own event loop if its own limits allow.
 * Handshakes go on either way.
 */
public final class NbdServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);

    private final VolumeExport exports;
    private final FrontConfig config;
    private final EventLoopGroup acceptor;
    private final EventLoopGroup workers;
    private final ChannelGroup connections = new DefaultChannelGroup("nbd-connections", GlobalEventExecutor.INSTANCE);
    /** The connections past their handshake: the ones admission pauses. */
    private final ChannelGroup transmitting = new DefaultChannelGroup("nbd-transmitting", GlobalEventExecutor.INSTANCE);
    private final Admission admission;
    private final Object admissionLock = new Object();
    /** Admission as last logged, so each transition is logged once; guarded by {@code admissionLock}. */
    private boolean admitting = true;
    private final Channel serverChannel;
    private final ListenAddress address;
    /** What this server's clients can make it log, throttled across all its connections. */
    private final ConnectionLogs logs = ConnectionLogs.create();
    private final ConnectionLimit limit;
    private final ScheduledFuture<?> logFlush;
    /** Written under the server's lock; volatile for the admission listener, which runs on any thread. */
    private volatile boolean stopped;

    /**
     * Memory for every connection's payloads and read replies together: half the JVM's direct
     * memory (-XX:MaxDirectMemorySize, by default the heap's maximum), so no mix of clients can
     * run the process out of it; the per-connection limits keep one client from taking it all.
     */
    private final PayloadBudget budget;

    private NbdServer(ListenAddress address, VolumeExport exports, Controller controller, FrontConfig config,
                      RequestObserver observer) throws IOException {
        this.budget = new PayloadBudget(PayloadBudget.defaultCapacity(PlatformDependent.maxDirectMemory(),
                VolumeExport.BLOCK_SIZES.maximum()));
        this.exports = exports;
        this.config = config;
        this.admission = controller.admission();
        this.limit = new ConnectionLimit(config.maxConnections());
        IoHandlerFactory io = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.acceptor = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("parityd-accept", true), io);
        this.workers = new MultiThreadIoEventLoopGroup(config.eventLoops(), new DefaultThreadFactory("parityd-nbd", true), io);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptor, workers)
                .channel(serverChannelClass(address))
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        admit(ch, controller, observer);
                    }
                });
        // Pooled, never zero-filled buffers, and socket reads of up to 1 MiB: a WRITE payload of
        // up to 32 MiB lands in few reads. (Netty 4.2's default allocator serves large buffers
        // from zeroed, unpooled memory, which cost a sixth of the event loop's time on 1 MiB writes.)
        bootstrap.childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(512, 64 << 10, 1 << 20));
        if (address instanceof ListenAddress.Tcp) {
            bootstrap.option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true);
        }
        try {
            this.serverChannel = bootstrap.bind(bindAddress(address)).syncUninterruptibly().channel();
        } catch (Exception e) {
            shutdownLoops();
            throw new IOException("cannot listen on " + address + ": " + e.getMessage()
                    + (address instanceof ListenAddress.Tcp ? "; is another server using the port? choose another with --listen" : ""), e);
        }
        this.address = actualAddress(address, serverChannel);
        // Suppressed lines are counted in the next line of their kind, or here once their window is over.
        long window = LogThrottle.DEFAULT_WINDOW.toMillis();
        this.logFlush = acceptor.scheduleAtFixedRate(logs::flush, window, window, TimeUnit.MILLISECONDS);
    }

    /**
     * Gives an accepted connection its handshake, or tells it why not: past
     * {@link FrontConfig#maxConnections()} it is refused (told why on every option until it leaves or
     * its handshake time runs out), and past as many refusals under way it is closed at once. Its
     * event loop.
     */
    private void admit(Channel ch, Controller controller, RequestObserver observer) {
        connections.add(ch);
        ConnectionLimit.Verdict verdict = limit.admit();
        ch.closeFuture().addListener(closed -> limit.release(verdict));
        switch (verdict) {
            case SERVE -> NbdServerPipeline.install(ch.pipeline(), exports, transmission(ch, controller, observer),
                    config.handshake(), logs);
            case REFUSE -> {
                observer.connectionRefused();
                logs.refusals().log("{}: refusing connection: {} open, the most --max-connections allows",
                        ch.remoteAddress(), limit.max());
                NbdServerPipeline.installRefusal(ch.pipeline(), config.handshake(), logs, "too many connections:"
                        + " this server serves at most " + limit.max() + " at once; try again later");
            }
            case DROP -> {
                observer.connectionRefused();
                logs.refusals().log("{}: closing connection at once: {} open and as many being refused",
                        ch.remoteAddress(), limit.max());
                ch.close();
            }
        }
    }

    /** The transmission phase of a served connection, drawing on the server's memory budget. */
    private TransmissionHandlerFactory transmission(Channel ch, Controller controller, RequestObserver observer) {
        return new TransmissionHandlerFactory() {
            @Override
            public ChannelHandler newTransmissionHandler(Session session) {
                // Joins before its handler reads admission, so no change falls in between.
                transmitting.add(ch);
                return new TransmissionHandler(session, controller, config.limits(), observer, budget, logs);
            }

            @Override
            public PayloadMemory payloadMemory() {
                return budget;
            }
        };
    }

    /** Binds and starts serving {@code exports} through {@code controller}. */
    public static NbdServer start(ListenAddress address, VolumeExport exports, Controller controller, FrontConfig config)
            throws IOException {
        return start(address, exports, controller, config, RequestObserver.NONE);
    }

    /** As {@link #start(ListenAddress, VolumeExport, Controller, FrontConfig)}, telling {@code observer} of the traffic. */
    public static NbdServer start(ListenAddress address, VolumeExport exports, Controller controller, FrontConfig config,
                                  RequestObserver observer)
            throws IOException {
        NbdServer server = new NbdServer(address, exports, controller, config, observer);
        // The URI ends at a space: tests and operators copy it from this line (DaemonProcess.SERVING).
        log.info("serving '{}' ({} bytes) at {} ({} MiB of memory for requests in flight){}{}", exports.info().name(),
                exports.info().size(), server.uri(), server.budget.capacity() >> 20,
                exports.readOnly() ? "; read-only" : "", switch (config.handshake().tls().mode()) {
                    case OFF -> "";
                    case ON -> "; TLS offered";
                    case REQUIRE -> "; TLS required";
                });
        server.admission.onChange(server::admissionChanged);
        server.admissionChanged(); // logs if it was closed before we listened
        return server;
    }

    /** The memory every connection's requests share. */
    public PayloadBudget budget() {
        return budget;
    }

    /** Where the server really listens (with the kernel's port when 0 was asked for). */
    public ListenAddress address() {
        return address;
    }

    /** The export's NBD URI, as libnbd tools take it. */
    public String uri() {
        String name = exports.info().name();
        if (address instanceof ListenAddress.Unix unix) {
            return "nbd+unix:///" + name + "?socket=" + unix.path();
        }
        return "nbd://" + address + "/" + name;
    }

    /**
     * Stops accepting clients, lets each connection finish its in-flight requests (new ones get
     * ESHUTDOWN), and closes them; connections still busy after the grace period are closed
     * anyway. Returns once every connection is closed and the event loops are down.
     */
    public synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        logFlush.cancel(false);
        exports.beginShutdown();
        serverChannel.close().syncUninterruptibly();
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> drain(ch));
        }
        boolean closed = connections.newCloseFuture().awaitUninterruptibly(config.shutdownGrace().toMillis());
        if (!closed) {
            log.warn("{} connections still busy after {}; closing them", connections.size(), config.shutdownGrace());
            connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        shutdownLoops();
        if (address instanceof ListenAddress.Unix unix) {
            SocketFile.deleteQuietly(unix.path());
        }
        log.info("stopped serving '{}'", exports.info().name());
    }

    /**
     * Tells every connection in transmission to re-evaluate whether it reads. Called on any thread,
     * possibly out of order with other calls: each connection reads {@link Admission#open()} itself
     * when its event loop gets to it, and every change is followed by such a call, so the last
     * evaluation on each connection sees the last change.
     */
    private void admissionChanged() {
        if (stopped) {
            return; // the controller may outlive this server, and Admission has no way to unregister
        }
        synchronized (admissionLock) {
            boolean open = admission.open();
            if (open != admitting) {
                admitting = open;
                if (open) {
                    log.info("resuming reads");
                } else {
                    log.info("pausing reads from {} connections: {}", transmitting.size(), admission.reason());
                }
            }
        }
        for (Channel ch : transmitting) {
            try {
                ch.eventLoop().execute(() -> ch.pipeline().fireUserEventTriggered(TransmissionHandler.ADMISSION_CHANGED));
            } catch (RejectedExecutionException e) {
                // The server is stopping and its loops are gone: nothing is left to pause or resume.
            }
        }
    }

    private static void drain(Channel ch) {
        if (ch.pipeline().get(TransmissionHandler.class) == null) {
            ch.close(); // still in the handshake: nothing in flight to finish
        } else {
            ch.pipeline().fireUserEventTriggered(TransmissionHandler.DRAIN);
        }
    }

    @Override
    public void close() {
        stop();
    }

    private void shutdownLoops() {
        acceptor.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private static Class<? extends ServerChannel> serverChannelClass(ListenAddress address) throws IOException {
        if (address instanceof ListenAddress.Unix) {
            if (!Epoll.isAvailable()) {
                throw new IOException("Unix sockets need Netty's epoll transport, which is unavailable here: "
                        + Epoll.unavailabilityCause() + "; use --listen HOST:PORT instead");
            }
            return EpollServerDomainSocketChannel.class;
        }
        return Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    private static java.net.SocketAddress bindAddress(ListenAddress address) throws IOException {
        if (address instanceof ListenAddress.Unix unix) {
            SocketFile.clearStale(unix.path(), "--socket");
            return new DomainSocketAddress(unix.path().toFile());
        }
        return ((ListenAddress.Tcp) address).socketAddress();
    }

    private static ListenAddress actualAddress(ListenAddress asked, Channel channel) {
        if (asked instanceof ListenAddress.Tcp tcp && channel.localAddress() instanceof InetSocketAddress bound) {
            return new ListenAddress.Tcp(tcp.host(), bound.getPort());
        }
        return asked;
    }

    @Override
    public String toString() {
        return "NbdServer[" + uri() + ", " + connections.size() + " connections]";
    }
}
