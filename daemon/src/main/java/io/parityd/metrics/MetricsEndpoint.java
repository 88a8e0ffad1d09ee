package io.parityd.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoint Prometheus scrapes: {@code GET /metrics} in the text exposition format
 * (DESIGN.md "Observability and operations"). Netty, one event loop thread: a client that is slow,
 * stalled or hostile holds only its own connection, never the scrape of another. Each connection
 * passes {@link ConnectionLimit} (the cap), {@link RequestDeadline} (a whole request within the
 * request timeout), an HTTP codec with small limits (a scraper's request is one short line and a
 * few headers) and {@link ScrapeHandler}; the scrape itself (status snapshot, then every meter)
 * runs on its own thread, one at a time.
 *
 * <pre>
 * parityd_metrics_connections_closed_total{reason="limit|timeout|bad_request"}   clients the endpoint turned away
 * </pre>
 */
public final class MetricsEndpoint implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);

    /** A scraper's request line is {@code GET /metrics HTTP/1.1}; a long one is not a scraper. */
    private static final int MAX_REQUEST_LINE = 4096;
    /** Prometheus sends five short headers; 8 KiB is what most HTTP servers allow in all. */
    private static final int MAX_HEADERS = 8192;
    /** A GET carries no body; the aggregator answers 413 to one larger than this. */
    private static final int MAX_BODY = 1024;

    private final EventLoopGroup loop;
    private final ExecutorService scrapes;
    private final ChannelGroup connections;
    private final Channel server;

    private MetricsEndpoint(EventLoopGroup loop, ExecutorService scrapes, Channel server, ChannelGroup connections) {
        this.loop = loop;
        this.scrapes = scrapes;
        this.server = server;
        this.connections = connections;
    }

    /**
     * Listens on {@code address} with the {@link EndpointLimits#DEFAULT default limits};
     * {@code beforeScrape} runs before each scrape (the status snapshot).
     *
     * @throws IOException naming the address if it cannot be bound
     */
    public static MetricsEndpoint start(InetSocketAddress address, PrometheusMeterRegistry registry,
                                        Runnable beforeScrape) throws IOException {
        return start(address, registry, beforeScrape, EndpointLimits.DEFAULT);
    }

    /** As {@link #start(InetSocketAddress, PrometheusMeterRegistry, Runnable)}, with {@code limits}. */
    public static MetricsEndpoint start(InetSocketAddress address, PrometheusMeterRegistry registry,
                                        Runnable beforeScrape, EndpointLimits limits) throws IOException {
        IoHandlerFactory io = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("parityd-metrics-io", true), io);
        ExecutorService scrapes = Executors.newSingleThreadExecutor(new DefaultThreadFactory("parityd-metrics", true));
        Channel server;
        ChannelGroup connections = new DefaultChannelGroup("parityd-metrics", GlobalEventExecutor.INSTANCE);
        try {
            server = new ServerBootstrap().group(loop).channel(serverChannel())
                    .childHandler(initializer(registry, beforeScrape, limits, scrapes, connections))
                    .bind(address).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            shutDown(loop, scrapes);
            throw new IOException("cannot listen for metrics on " + address.getHostString() + ":" + address.getPort()
                    + ": " + e.getMessage() + "; choose another with --metrics", e);
        }
        MetricsEndpoint endpoint = new MetricsEndpoint(loop, scrapes, server, connections);
        log.info("metrics at {} (Prometheus text format)", endpoint.url());
        return endpoint;
    }

    private static Class<? extends ServerChannel> serverChannel() {
        return Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    private static ChannelInitializer<Channel> initializer(PrometheusMeterRegistry registry, Runnable beforeScrape,
                                                          EndpointLimits limits, ExecutorService scrapes,
                                                          ChannelGroup connections) {
        Counter overLimit = closed(registry, "limit");
        Counter timedOut = closed(registry, "timeout");
        Counter badRequest = closed(registry, "bad_request");
        ConnectionLimit limit = new ConnectionLimit(limits.maxConnections(), overLimit::increment);
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                connections.add(ch);
                ch.pipeline().addLast(limit, new RequestDeadline(limits, timedOut::increment),
                        new HttpServerCodec(MAX_REQUEST_LINE, MAX_HEADERS, MAX_BODY),
                        new HttpObjectAggregator(MAX_BODY),
                        new ScrapeHandler(() -> render(registry, beforeScrape, scrapes), badRequest::increment));
            }
        };
    }

    private static Counter closed(MeterRegistry registry, String reason) {
        return Counter.builder("parityd.metrics.connections.closed")
                .description("metrics clients closed by the endpoint: over the connection cap, too slow to send"
                        + " a request, or a request that did not parse").tag("reason", reason).register(registry);
    }

    /** Takes the status snapshot and renders every meter, on the scrape thread. */
    private static CompletableFuture<String> render(PrometheusMeterRegistry registry, Runnable beforeScrape,
                                                    ExecutorService scrapes) {
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    beforeScrape.run();
                } catch (RuntimeException e) {
                    log.warn("metrics: the status snapshot failed; serving the previous one: {}", e.toString());
                }
                return registry.scrape();
            }, scrapes);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            return CompletableFuture.failedFuture(closing);
        }
    }

    /** Where it listens (with the kernel's port when 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    public String url() {
        InetSocketAddress a = address();
        String host = a.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/metrics";
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        shutDown(loop, scrapes);
    }

    private static void shutDown(EventLoopGroup loop, ExecutorService scrapes) {
        scrapes.shutdownNow();
        loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
