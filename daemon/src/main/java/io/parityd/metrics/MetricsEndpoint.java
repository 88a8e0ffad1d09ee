package io.parityd.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoint Prometheus scrapes: {@code GET /metrics} in the text exposition format,
 * anything else 404. The JDK's own HTTP server is enough for one scraper every few seconds, and
 * keeps a second HTTP stack out of the daemon. One thread: a scrape takes the status snapshot,
 * then renders every meter.
 */
public final class MetricsEndpoint implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MetricsEndpoint.class);
    private static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService thread;

    private MetricsEndpoint(HttpServer server, ExecutorService thread) {
        this.server = server;
        this.thread = thread;
    }

    /**
     * Listens on {@code address}; {@code beforeScrape} runs before each scrape (the status
     * snapshot).
     *
     * @throws IOException naming the address if it cannot be bound
     */
    public static MetricsEndpoint start(InetSocketAddress address, PrometheusMeterRegistry registry,
                                        Runnable beforeScrape) throws IOException {
        HttpServer server;
        try {
            server = HttpServer.create(address, 16);
        } catch (IOException e) {
            throw new IOException("cannot listen for metrics on " + address.getHostString() + ":" + address.getPort()
                    + ": " + e.getMessage() + "; choose another with --metrics", e);
        }
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "parityd-metrics");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(thread);
        server.createContext("/", exchange -> {
            try (exchange) {
                if (!exchange.getRequestURI().getPath().equals("/metrics")) {
                    respond(exchange, 404, "text/plain; charset=utf-8", "parityd serves its metrics at /metrics\n");
                    return;
                }
                if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                    respond(exchange, 405, "text/plain; charset=utf-8", "GET /metrics\n");
                    return;
                }
                try {
                    beforeScrape.run();
                } catch (RuntimeException e) {
                    log.warn("metrics: the status snapshot failed; serving the previous one: {}", e.toString());
                }
                respond(exchange, 200, CONTENT_TYPE, registry.scrape());
            }
        });
        server.start();
        MetricsEndpoint endpoint = new MetricsEndpoint(server, thread);
        log.info("metrics at {} (Prometheus text format)", endpoint.url());
        return endpoint;
    }

    private static void respond(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** Where it listens (with the kernel's port when 0 was asked for). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    public String url() {
        InetSocketAddress a = address();
        String host = a.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/metrics";
    }

    @Override
    public void close() {
        server.stop(0);
        thread.shutdownNow();
    }
}
