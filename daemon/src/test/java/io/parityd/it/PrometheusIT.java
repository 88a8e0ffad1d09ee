package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The metrics, as an operator's Prometheus sees them: a real Prometheus server (Debian's
 * {@code prometheus}, on loopback, with a config this test writes) scrapes a running daemon; the
 * test asks Prometheus's HTTP API. Counters move by exactly what the test's own workload implies,
 * and a failed member shows within one scrape. The deploy kit is checked with {@code promtool}
 * (config, rules, and the rules' own unit tests), and every metric the dashboard and the alerts
 * use is one that a serving daemon, a front or a controller really exports.
 */
class PrometheusIT extends DaemonTestBase {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Pattern METRIC = Pattern.compile("\\bparityd_[a-z0-9_]+");

    private Process prometheus;
    private HaCluster cluster;

    @AfterEach
    void stopPrometheus() throws Exception {
        if (prometheus != null) {
            prometheus.destroyForcibly().waitFor(); // the server this test started, by its PID
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void shouldBeScrapedByARealPrometheusWithCountersThatFollowTheWorkload() throws Exception {
        Tools.require("prometheus", "prometheus");
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("prom", "17M", members);
        int metricsPort = HaCluster.freePort();
        daemon = Arrays.serve(dir.resolve("serve.log"), members, "--metrics", "127.0.0.1:" + metricsPort);
        String api = startPrometheus(List.of("127.0.0.1:" + metricsPort));

        awaitValue(api, "up{job=\"parityd\"}", 1, Duration.ofSeconds(60));
        double bytesBefore = value(api, "parityd_nbd_bytes_total{command=\"write\"}");
        double writesBefore = value(api, "parityd_nbd_requests_total{command=\"write\"}");
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), daemon.exportName(), false)) {
            for (int i = 0; i < 8; i++) {
                c.write((long) i << 20, new byte[1 << 20]);
            }
        }
        awaitValue(api, "parityd_nbd_bytes_total{command=\"write\"}", bytesBefore + (8 << 20), Duration.ofSeconds(30));
        assertThat(value(api, "parityd_nbd_requests_total{command=\"write\"}")).as("write requests")
                .isEqualTo(writesBefore + 8);
        assertThat(value(api, "parityd_nbd_request_duration_seconds_count{command=\"write\"}"))
                .as("the latency histogram counts them too").isGreaterThanOrEqualTo(8);
        assertThat(value(api, "parityd_array_state{state=\"clean\"}")).isEqualTo(1);
        assertThat(value(api, "parityd_journal_capacity_bytes")).isEqualTo(256 << 20);

        Parityd.Result failed = new Admin(Arrays.adminSocket(dir.resolve("serve.log"))).run("fail", "1");
        assertThat(failed.exitCode()).as(failed.all()).isZero();
        long failedAt = System.nanoTime();
        awaitValue(api, "parityd_member_state{slot=\"1\",state=\"faulty\"}", 1, Duration.ofSeconds(10));
        // Scrapes every second: the next one shows it, so at most an interval and a scrape's own time.
        assertThat(Duration.ofNanos(System.nanoTime() - failedAt)).as("shown within one scrape (interval 1 s)")
                .isLessThan(Duration.ofMillis(3000));
        assertThat(value(api, "parityd_array_state{state=\"degraded\"}")).isEqualTo(1);
        assertThat(value(api, "parityd_member_failures_total{slot=\"1\"}")).isEqualTo(1);
        assertThat(value(api, "parityd_member_failures_total{slot=\"0\"}")).isEqualTo(0);
    }

    @Test
    void shouldKeepBeingScrapedWhileStalledClientsHoldConnections() throws Exception {
        Tools.require("prometheus", "prometheus");
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create("stall", "12M", members);
        int metricsPort = HaCluster.freePort();
        daemon = Arrays.serve(dir.resolve("serve.log"), members, "--metrics", "127.0.0.1:" + metricsPort);
        String api = startPrometheus(List.of("127.0.0.1:" + metricsPort));
        awaitValue(api, "up{job=\"parityd\"}", 1, Duration.ofSeconds(60));

        Duration window = Duration.ofSeconds(10);
        try (StalledClients stalled = new StalledClients(new InetSocketAddress("127.0.0.1", metricsPort), 5)) {
            Thread.sleep(window.toMillis()); // Prometheus scrapes every second meanwhile
            assertThat(stalled.opened()).as("stalled connections made (re-made when the daemon closed them)")
                    .isGreaterThanOrEqualTo(5);
        }
        String range = "[" + window.toSeconds() + "s]";
        assertThat(value(api, "min_over_time(up{job=\"parityd\"}" + range + ")"))
                .as("every scrape during the stall succeeded").isEqualTo(1);
        assertThat(value(api, "count_over_time(up{job=\"parityd\"}" + range + ")"))
                .as("and they kept coming, about one a second").isGreaterThanOrEqualTo(window.toSeconds() - 4);
        assertThat(value(api, "max_over_time(scrape_duration_seconds{job=\"parityd\"}" + range + ")"))
                .as("none was slowed down").isLessThan(0.5);
    }

    /**
     * Clients that each send one byte of a request and then hold the connection, the defect's
     * reproduction; one the daemon closes is opened again, so they stall it the whole time.
     */
    private static final class StalledClients implements AutoCloseable {
        private final InetSocketAddress target;
        private final List<Socket> sockets = new ArrayList<>();
        private final Thread keeper;
        private volatile boolean running = true;
        private int opened;

        StalledClients(InetSocketAddress target, int count) throws IOException {
            this.target = target;
            for (int i = 0; i < count; i++) {
                sockets.add(open());
            }
            keeper = new Thread(this::keepStalling, "stalled-clients");
            keeper.setDaemon(true);
            keeper.start();
        }

        private Socket open() throws IOException {
            Socket s = new Socket();
            s.connect(target, 2000);
            s.getOutputStream().write('G');
            s.getOutputStream().flush();
            s.setSoTimeout(100);
            synchronized (this) {
                opened++;
            }
            return s;
        }

        synchronized int opened() {
            return opened;
        }

        /** Polls each socket; one that reached end of stream (closed by the daemon) is replaced. */
        private void keepStalling() {
            while (running) {
                for (int i = 0; i < sockets.size() && running; i++) {
                    try {
                        if (sockets.get(i).getInputStream().read() < 0) {
                            sockets.get(i).close();
                            sockets.set(i, open());
                        }
                    } catch (java.net.SocketTimeoutException stillOpen) {
                        // the daemon holds it: still stalling
                    } catch (IOException e) {
                        running = false;
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            }
        }

        @Override
        public void close() throws Exception {
            running = false;
            keeper.join(5000);
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void shouldPassPromtoolOnTheDeployKit() throws Exception {
        Tools.require("promtool", "prometheus");
        Path deploy = Parityd.home().resolve("deploy");
        for (List<String> check : List.of(List.of("check", "config", "prometheus.yml"),
                List.of("check", "rules", "alerts.yml"), List.of("test", "rules", "alerts.test.yml"))) {
            List<String> command = new ArrayList<>(List.of("promtool"));
            command.addAll(check);
            Process p = new ProcessBuilder(command).directory(deploy.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as("promtool %s:%n%s", check, out).isZero();
            assertThat(out).contains("SUCCESS");
        }
    }

    @Test
    void shouldUseOnlyExportedMetricsInTheDashboardAndTheAlerts() throws Exception {
        Set<String> exported = new TreeSet<>();
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("dash", "12M", members);
        int servePort = HaCluster.freePort();
        daemon = Arrays.serve(dir.resolve("serve.log"), members, "--metrics", "127.0.0.1:" + servePort);
        exported.addAll(names("127.0.0.1:" + servePort));
        daemon.terminate(Duration.ofSeconds(60));
        daemon = null;

        int frontPort = HaCluster.freePort();
        int controllerPort = HaCluster.freePort();
        cluster = new HaCluster(dir, members, "--metrics", "127.0.0.1:" + frontPort);
        cluster.startController("a", "--metrics", "127.0.0.1:" + controllerPort);
        cluster.startController("b");
        cluster.startFront();
        cluster.awaitPair(Duration.ofSeconds(60));
        exported.addAll(names("127.0.0.1:" + frontPort));
        exported.addAll(names("127.0.0.1:" + controllerPort));

        Path deploy = Parityd.home().resolve("deploy");
        JsonNode dashboard = JSON.readTree(deploy.resolve("grafana-dashboard.json").toFile());
        List<String> expressions = new ArrayList<>();
        dashboard.findValues("expr").forEach(e -> expressions.add(e.asText()));
        assertThat(expressions).as("the dashboard's queries").hasSizeGreaterThan(10);
        expressions.add(Files.readString(deploy.resolve("alerts.yml")));
        Set<String> used = new TreeSet<>();
        for (String expr : expressions) {
            Matcher m = METRIC.matcher(expr);
            while (m.find()) {
                used.add(m.group());
            }
        }
        assertThat(used).as("metrics the dashboard and the alerts use").hasSizeGreaterThan(20);
        assertThat(exported).as("every one of them is exported by serve, front or controller").containsAll(used);
    }

    /** Every metric name (series names, with _bucket/_count/_sum/_max as exported) at {@code target}/metrics. */
    private static Set<String> names(String target) throws Exception {
        HttpResponse<String> r = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (r == null) {
            try {
                r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + target + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(100); // the endpoint starts just after the NBD server says it serves
            }
        }
        assertThat(r.statusCode()).isEqualTo(200);
        Set<String> names = new TreeSet<>();
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                Matcher m = METRIC.matcher(line);
                if (m.lookingAt()) {
                    names.add(m.group());
                }
            }
        }
        return names;
    }

    /** Starts Prometheus on loopback scraping {@code targets} every second; returns its API base URL. */
    private String startPrometheus(List<String> targets) throws Exception {
        int port = HaCluster.freePort();
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
                + "  - job_name: parityd\n    static_configs:\n      - targets: [" + String.join(", ", targets.stream()
                .map(t -> "'" + t + "'").toList()) + "]\n");
        Path log = dir.resolve("prometheus.log");
        prometheus = new ProcessBuilder("prometheus", "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        String api = "http://127.0.0.1:" + port;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (HTTP.send(HttpRequest.newBuilder(URI.create(api + "/-/ready")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                    return api;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            assertThat(prometheus.isAlive()).as("prometheus:%n%s", Files.readString(log)).isTrue();
            Thread.sleep(100);
        }
        throw new AssertionError("prometheus not ready within a minute:\n" + Files.readString(log));
    }

    /** The value of an instant query that must return one series; NaN if it returns none. */
    private static double value(String api, String query) throws Exception {
        String url = api + "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8);
        JsonNode body = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        assertThat(body.path("status").asText()).as("query %s: %s", query, body).isEqualTo("success");
        JsonNode result = body.path("data").path("result");
        if (result.isEmpty()) {
            return Double.NaN;
        }
        assertThat(result.size()).as("series for %s", query).isEqualTo(1);
        return Double.parseDouble(result.get(0).path("value").get(1).asText());
    }

    private static void awaitValue(String api, String query, double expected, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        double last = Double.NaN;
        while (System.nanoTime() < deadline) {
            last = value(api, query);
            if (last == expected) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(query + " is " + last + ", expected " + expected + " within " + timeout);
    }
}
