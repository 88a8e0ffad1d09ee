package io.parityd.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The metrics endpoint against clients that misbehave: stalled and trickling clients neither
 * delay a scrape nor stay connected past the request deadline, connections over the cap are
 * closed at once, a scrape that blocks does not hold up the event loop, and only
 * {@code GET /metrics} (and HEAD) is served.
 */
class MetricsEndpointTest {

    private static final Duration QUICK = Duration.ofSeconds(3);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final List<Socket> sockets = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(QUICK).build();
    private MetricsEndpoint endpoint;

    @AfterEach
    void close() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
        registry.close();
    }

    @Test
    void shouldServeAScrapeWhileClientsHoldHalfSentRequests() throws Exception {
        Counter.builder("parityd.test.marker").register(registry).increment();
        endpoint = MetricsEndpoint.start(new InetSocketAddress("127.0.0.1", 0), registry, () -> { });
        for (int i = 0; i < 5; i++) {
            stalled("G"); // one byte of a request, then nothing: the defect's reproduction
        }
        HttpResponse<String> r = get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(r.body()).contains("parityd_test_marker_total 1.0");
    }

    @Test
    void shouldCloseAClientThatTricklesItsRequestPastTheDeadline() throws Exception {
        endpoint = MetricsEndpoint.start(new InetSocketAddress("127.0.0.1", 0), registry, () -> { }, limits(3));
        Socket silent = stalled("");
        Socket trickling = stalled("G");
        long start = System.nanoTime();
        OutputStream out = trickling.getOutputStream();
        try {
            // a byte every 100 ms: a read timeout would restart at each, the request deadline does not
            for (byte b : "ET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII)) {
                out.write(b);
                out.flush();
                Thread.sleep(100);
            }
        } catch (IOException closedWhileSending) {
            // the server closed it mid-request: what the test wants
        }
        assertClosedWithin(trickling, QUICK);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("closed near the 500 ms deadline")
                .isLessThan(Duration.ofMillis(2500));
        assertClosedWithin(silent, QUICK);
        assertThat(registry.scrape()).contains("parityd_metrics_connections_closed_total{reason=\"timeout\"} 2.0");
    }

    @Test
    void shouldCloseConnectionsOverTheCapAndServeOnceOneLeaves() throws Exception {
        endpoint = MetricsEndpoint.start(new InetSocketAddress("127.0.0.1", 0), registry, () -> { }, limits(2));
        Socket first = stalled("G");
        stalled("G");
        Socket third = stalled("");
        assertClosedWithin(third, QUICK);
        first.close();
        HttpResponse<String> r = awaitScrape();
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("parityd_metrics_connections_closed_total{reason=\"limit\"} ");
    }

    @Test
    void shouldAnswerOnlyGetAndHeadOfMetrics() throws Exception {
        endpoint = MetricsEndpoint.start(new InetSocketAddress("127.0.0.1", 0), registry, () -> { });
        assertThat(get("/").statusCode()).isEqualTo(404);
        assertThat(get("/metricsx").statusCode()).isEqualTo(404);
        HttpResponse<String> post = send(HttpRequest.newBuilder(uri("/metrics")).timeout(QUICK)
                .POST(HttpRequest.BodyPublishers.ofString("x")).build());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
        HttpResponse<String> head = send(HttpRequest.newBuilder(uri("/metrics")).timeout(QUICK)
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(get("/metrics?name=x").statusCode()).as("a query string is not another path").isEqualTo(200);
    }

    @Test
    void shouldAnswerARequestThatDoesNotParseWith400AndClose() throws Exception {
        endpoint = MetricsEndpoint.start(new InetSocketAddress("127.0.0.1", 0), registry, () -> { });
        Socket s = stalled("GET /" + "x".repeat(8000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        s.setSoTimeout((int) QUICK.toMillis());
        String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(answer).startsWith("HTTP/1.1 4"); // 400, or 414 where the codec names it
        assertThat(get("/metrics").statusCode()).as("others still served").isEqualTo(200);
    }

    @Test
    void shouldKeepServingOtherClientsWhileAScrapeBlocks() throws Exception {
        CountDownLatch inScrape = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        endpoint = MetricsEndpoint.start(new InetSocketAddress("127.0.0.1", 0), registry, () -> {
            inScrape.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        var blocked = http.sendAsync(HttpRequest.newBuilder(uri("/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        await(inScrape);
        assertThat(get("/elsewhere").statusCode()).as("the event loop is free while the scrape waits").isEqualTo(404);
        release.countDown();
        assertThat(blocked.get(QUICK.toMillis(), TimeUnit.MILLISECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void shouldServeSeveralScrapesOverOneKeptAliveConnection() throws Exception {
        endpoint = MetricsEndpoint.start(new InetSocketAddress("127.0.0.1", 0), registry, () -> { });
        Socket s = stalled("");
        s.setSoTimeout((int) QUICK.toMillis());
        for (int i = 0; i < 3; i++) {
            s.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String headers = readHeaders(s.getInputStream());
            assertThat(headers).startsWith("HTTP/1.1 200 OK").containsIgnoringCase("connection: keep-alive");
            int length = Integer.parseInt(headers.replaceAll("(?is).*content-length: *(\\d+).*", "$1"));
            assertThat(s.getInputStream().readNBytes(length)).hasSize(length);
        }
    }

    /** A small cap and short deadlines: {@code maxConnections}, 500 ms per request, 2 s idle. */
    private static EndpointLimits limits(int maxConnections) {
        return new EndpointLimits(Duration.ofMillis(500), Duration.ofSeconds(2), maxConnections);
    }

    /** Scrapes until one succeeds: the server sees a client's close a moment after the client does. */
    private HttpResponse<String> awaitScrape() throws Exception {
        long deadline = System.nanoTime() + QUICK.toNanos();
        while (true) {
            try {
                return get("/metrics");
            } catch (IOException refused) {
                if (System.nanoTime() > deadline) {
                    throw refused;
                }
                Thread.sleep(50);
            }
        }
    }

    private static String readHeaders(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        while (!b.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed after " + b);
            }
            b.append((char) c);
        }
        return b.toString();
    }

    private Socket stalled(String sent) throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(endpoint.address(), (int) QUICK.toMillis());
        OutputStream out = s.getOutputStream();
        if (!sent.isEmpty()) {
            out.write(sent.getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }
        return s;
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(uri(path)).timeout(QUICK).GET().build());
    }

    private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        InetSocketAddress a = endpoint.address();
        return URI.create("http://" + a.getHostString() + ":" + a.getPort() + path);
    }

    /** Reads until the server closes the connection; fails if it is still open after {@code within}. */
    private static void assertClosedWithin(Socket s, Duration within) throws IOException {
        s.setSoTimeout((int) within.toMillis());
        InputStream in = s.getInputStream();
        try {
            while (in.read() >= 0) {
                // a 408 or 503 answer may come before the close; the close is what counts
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server kept the connection open for " + within, e);
        } catch (IOException reset) {
            // a reset is a close too
        }
    }

    private static void await(CountDownLatch latch) throws InterruptedException {
        assertThat(latch.await(QUICK.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    }
}
