package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A member file deleted or truncated under a running {@code serve}, with a client writing all
 * along: the deleted one is failed within the member watch's bound (status, metrics and the
 * alerts' series show it) and the client sees no error; the truncated one's next start names the
 * member and the command that starts without it, and that command works.
 */
class MemberLostWhileServingIT extends DaemonTestBase {

    /** The watch checks every 2 s; a scrape and a busy machine get the rest. */
    private static final Duration DETECTED_WITHIN = Duration.ofSeconds(6);
    private static final int BLOCK = 64 << 10;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void shouldFailAMemberDeletedWhileServingWithinTheBoundAndNoClientError() throws Exception {
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("gone", "17M", members);
        int metricsPort = HaCluster.freePort();
        daemon = Arrays.serve(dir.resolve("serve.log"), members, "--metrics", "127.0.0.1:" + metricsPort);
        String metrics = "http://127.0.0.1:" + metricsPort + "/metrics";
        try (Writer writer = new Writer(daemon)) {
            writer.awaitWrites(20);
            java.nio.file.Files.delete(members.get(2));
            long deleted = System.nanoTime();
            awaitMetric(metrics, "parityd_member_state{slot=\"2\",state=\"faulty\"} 1.0", DETECTED_WITHIN);
            Duration took = Duration.ofNanos(System.nanoTime() - deleted);
            assertThat(took).as("failed within the watch's bound").isLessThan(DETECTED_WITHIN);
            String scrape = scrape(metrics);
            assertThat(scrape).contains("parityd_array_state{state=\"degraded\"} 1.0")
                    .contains("parityd_member_failures_total{slot=\"2\"} 1.0");
            writer.awaitWrites(writer.writes() + 20); // and the client goes on
            writer.stopAndVerify();
            assertThat(writer.errors()).as("client errors").isZero();
        }
        Admin admin = new Admin(Arrays.adminSocket(dir.resolve("serve.log")));
        assertThat(admin.slotStates()).containsExactly("active", "active", "faulty", "active");
        assertThat(admin.status().get("state").asText()).isEqualTo("degraded");
        assertThat(daemon.log()).contains(members.get(2) + " was deleted while parityd had it open");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;

        String examined = Parityd.run("examine", members.get(0).toString()).stdout();
        assertThat(examined).contains("state:      clean").containsPattern("slot 2 +faulty");
        daemon = Arrays.serve(dir.resolve("again.log"), members);
        assertThat(daemon.log()).contains("starts DEGRADED").contains("slot 2");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;
    }

    @Test
    void shouldNameTheCommandThatStartsWithoutAMemberTruncatedWhileServing() throws Exception {
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create("short", "17M", members);
        daemon = Arrays.serve(dir.resolve("serve.log"), members);
        try (RandomAccessFile f = new RandomAccessFile(members.get(1).toFile(), "rw")) {
            f.setLength(0);
        }
        Admin admin = new Admin(Arrays.adminSocket(dir.resolve("serve.log")));
        admin.awaitStatus(s -> s.get("state").asText().equals("degraded"), DETECTED_WITHIN, "the truncation noticed");
        try (Writer writer = new Writer(daemon)) {
            writer.awaitWrites(40);
            writer.stopAndVerify();
            assertThat(writer.errors()).as("client errors").isZero();
        }
        assertThat(admin.slotStates()).containsExactly("active", "faulty", "active");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;

        List<String> args = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:0", "--admin-socket",
                dir.resolve("refused.sock").toString()));
        args.addAll(Arrays.paths(members));
        Parityd.Result refused = Parityd.run(args.toArray(String[]::new));
        assertThat(refused.exitCode()).isEqualTo(1);
        String command = "parityd serve " + members.get(0) + " " + members.get(2);
        assertThat(refused.stderr()).contains(members.get(1) + " holds no parityd superblock")
                .contains("no member for slot 1 (marked faulty)").contains(command)
                .contains("parityd replace 1 NEW-MEMBER");

        daemon = Arrays.serve(dir.resolve("without.log"), List.of(members.get(0), members.get(2)));
        assertThat(daemon.log()).as("the command it gave").contains("starts DEGRADED");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;
    }

    private static String scrape(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static void awaitMetric(String url, String line, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        String last = scrape(url);
        while (!last.contains(line)) {
            assertThat(System.nanoTime()).as("%s within %s", line, within).isLessThan(deadline);
            Thread.sleep(100);
            last = scrape(url);
        }
    }

    /**
     * A client writing 64 KiB blocks at random places in the first 4 MiB, on its own thread,
     * remembering what it wrote last where; it counts errors instead of stopping at one.
     */
    private static final class Writer implements AutoCloseable {
        private final RawNbdClient client;
        private final Map<Long, byte[]> written = new ConcurrentHashMap<>();
        private final AtomicInteger writes = new AtomicInteger();
        private final AtomicInteger errors = new AtomicInteger();
        private final AtomicReference<Throwable> firstError = new AtomicReference<>();
        private final Thread thread;
        private volatile boolean running = true;

        Writer(DaemonProcess daemon) throws IOException {
            client = RawNbdClient.open(daemon.uri(), daemon.exportName(), false);
            thread = new Thread(this::run, "writer");
            thread.start();
        }

        private void run() {
            Random random = new Random(14);
            while (running) {
                long offset = (long) random.nextInt(64) * BLOCK;
                byte[] block = new byte[BLOCK];
                random.nextBytes(block);
                try {
                    client.write(offset, block);
                    written.put(offset, block);
                    writes.incrementAndGet();
                } catch (IOException | AssertionError e) {
                    errors.incrementAndGet();
                    firstError.compareAndSet(null, e);
                    if (e instanceof IOException) {
                        return; // the connection is gone: nothing more to write on
                    }
                }
            }
        }

        int writes() {
            return writes.get();
        }

        int errors() {
            return errors.get();
        }

        void awaitWrites(int count) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (writes.get() < count) {
                assertThat(firstError.get()).as("first client error").isNull();
                assertThat(System.nanoTime()).as("%d writes within a minute", count).isLessThan(deadline);
                Thread.sleep(20);
            }
        }

        /** Stops writing, then reads every block back: each holds what was written last. */
        void stopAndVerify() throws Exception {
            running = false;
            thread.join(30_000);
            assertThat(firstError.get()).as("first client error").isNull();
            for (Map.Entry<Long, byte[]> e : written.entrySet()) {
                assertThat(client.read(e.getKey(), BLOCK)).as("block at %d", e.getKey()).isEqualTo(e.getValue());
            }
        }

        @Override
        public void close() throws Exception {
            running = false;
            thread.join(30_000);
            client.close();
        }
    }
}
