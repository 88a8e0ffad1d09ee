package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14 against the real daemon: hostile or careless traffic never wedges it, fills its memory
 * or its log, or fools it. Each test abuses one way while a witness connection (and nbdinfo, where
 * installed) keeps being served, and no byte of the volume changes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileTrafficIT {

    private static final int MIB = 1 << 20;
    private static final long PATTERN_AT = 8L * MIB;
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(2);
    private static final int MAX_CONNECTIONS = 8;
    private static final int REP_ERR_POLICY = 0x80000002;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    @TempDir
    static Path dir;

    private List<Path> members;
    private DaemonProcess daemon;
    private RawNbdClient witness;
    private byte[] pattern;

    @BeforeAll
    void startDaemonAndWritePattern() throws Exception {
        members = Arrays.members(dir, 3);
        Arrays.create("hostile", "65M", members);
        Path log = dir.resolve("parityd.log");
        List<String> args = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:0",
                "--admin-socket", Arrays.adminSocket(log).toString(),
                "--handshake-timeout", HANDSHAKE_TIMEOUT.toMillis() + "ms",
                "--max-connections", Integer.toString(MAX_CONNECTIONS)));
        args.addAll(Arrays.paths(members));
        // Every buffer the abuse makes the daemon allocate is tracked; a leak fails the class.
        daemon = DaemonProcess.start(log, DaemonProcess.SERVING, new DaemonProcess.Launch(
                Map.of("PARITYD_JAVA_OPTS", "-Dio.netty.leakDetection.level=paranoid"), false), args.toArray(String[]::new));
        witness = RawNbdClient.open(daemon.uri(), "hostile", false);
        pattern = new byte[MIB];
        new Random(14).nextBytes(pattern);
        witness.write(PATTERN_AT, pattern);
    }

    @AfterAll
    void verifyNothingChangedAndStop() throws Exception {
        try {
            assertThat(witness.read(PATTERN_AT, pattern.length)).as("pattern after all the abuse").isEqualTo(pattern);
            witness.close();
            assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
            assertThat(daemon.log()).doesNotContain("LEAK:").doesNotContain("IllegalReferenceCountException");
            Arrays.assertParityClean(members);
        } finally {
            daemon.close();
        }
    }

    @Test
    void shouldCloseAHandshakeThatTricklesPastTheTimeout() throws Exception {
        long started;
        boolean closed = false;
        try (RawNbdClient c = RawNbdClient.connect(daemon.uri())) {
            c.greeting();
            started = System.nanoTime();
            byte[] go = ByteBuffer.allocate(4 + 8 + 4 + 4 + 12).putInt(3).putLong(RawNbdClient.IHAVEOPT)
                    .putInt(RawNbdClient.OPT_GO).putInt(12).putInt(6).put("nowhere".getBytes(StandardCharsets.UTF_8), 0, 6)
                    .putShort((short) 0).array();
            // One byte every 250 ms: never idle, never done.
            for (int i = 0; i < go.length && !closed; i++) {
                try {
                    c.out.write(go[i]);
                    c.out.flush();
                } catch (IOException reset) {
                    closed = true;
                    break;
                }
                closed = c.closedByServer(Duration.ofMillis(250));
            }
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        assertThat(closed).as("closed by the server").isTrue();
        assertThat(ms).as("ms from greeting to close").isBetween(HANDSHAKE_TIMEOUT.toMillis() - 500, HANDSHAKE_TIMEOUT.toMillis() + 3000);
        assertThat(linesWith("handshake not finished within 2.0 s")).isNotEmpty();
        assertWitnessWorks();
    }

    @Test
    void shouldKeepMemoryBoundedUnderAListFloodAndServeOthers() throws Exception {
        long rssBefore = rssBytes();
        List<Thread> flooders = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread t = new Thread(this::floodList, "list-flood-" + i);
            t.start();
            flooders.add(t);
        }
        long maxRss = rssBefore;
        long witnessMs = -1;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (flooders.stream().anyMatch(Thread::isAlive) && System.nanoTime() < deadline) {
            maxRss = Math.max(maxRss, rssBytes());
            if (witnessMs < 0) {
                long t0 = System.nanoTime();
                assertWitnessWorks();
                witnessMs = (System.nanoTime() - t0) / 1_000_000;
            }
            Thread.sleep(20);
        }
        maxRss = Math.max(maxRss, rssBytes());
        System.out.printf("LIST flood: RSS %d MiB before, at most %d MiB during; witness served in %d ms%n",
                rssBefore >> 20, maxRss >> 20, witnessMs);
        assertThat(flooders).as("flooders cut off").noneMatch(Thread::isAlive);
        assertThat(maxRss - rssBefore).as("RSS growth under the flood").isLessThan(64L * MIB);
        assertThat(witnessMs).as("ms to serve the witness during the flood").isLessThan(2000);
        assertThat(linesWith("without choosing an export")).isNotEmpty();
        assertWitnessWorks();
    }

    @Test
    void shouldRefuseTheConnectionPastTheLimitAndServeTheOthers() throws Exception {
        List<RawNbdClient> held = new ArrayList<>();
        try {
            while (held.size() < MAX_CONNECTIONS - 1) { // the witness holds one
                held.add(openServed());
            }
            try (RawNbdClient extra = RawNbdClient.connect(daemon.uri())) {
                extra.greeting();
                extra.out.writeInt(3);
                extra.option(RawNbdClient.OPT_GO, goData("hostile"));
                RawNbdClient.OptionReply reply = extra.optionReply();
                assertThat(reply.type()).as("reply to GO past the limit").isEqualTo(REP_ERR_POLICY);
                assertThat(reply.text()).contains("too many connections").contains("at most " + MAX_CONNECTIONS);
                extra.option(RawNbdClient.OPT_ABORT, new byte[0]);
                assertThat(extra.optionReply().type()).as("ABORT of a refused connection").isEqualTo(RawNbdClient.REP_ACK);
                assertThat(extra.closedByServer(CLOSE_WAIT)).as("then closed").isTrue();
            }
            if (Tools.onPath("nbdinfo")) {
                // libnbd says the server refused GO; its debug output carries the server's reason.
                Parityd.Result info = Parityd.exec(List.of("env", "LIBNBD_DEBUG=1", "nbdinfo", daemon.uri()),
                        Duration.ofSeconds(30));
                assertThat(info.exitCode()).as("nbdinfo past the limit: %s", info.all()).isNotZero();
                assertThat(info.stderr()).contains("server replied with error to opt_go request")
                        .contains("too many connections: this server serves at most " + MAX_CONNECTIONS);
            }
            System.out.printf("%d connections served: the daemon holds %d file descriptors%n", MAX_CONNECTIONS,
                    Files.list(Path.of("/proc", Long.toString(daemon.pid()), "fd")).count());
            for (RawNbdClient c : held) {
                assertThat(c.read(PATTERN_AT, 4096)).isEqualTo(java.util.Arrays.copyOf(pattern, 4096));
            }
            assertWitnessWorks();
            held.remove(0).close();
            held.add(openServed());
            assertThat(linesWith("refusing connection")).isNotEmpty();
        } finally {
            for (RawNbdClient c : held) {
                c.close();
            }
        }
    }

    /**
     * A connection in transmission, retried for a while if refused: connections an earlier test
     * closed are counted out only once the daemon has seen them close.
     */
    private RawNbdClient openServed() throws Exception {
        long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
        while (true) {
            RawNbdClient c = RawNbdClient.connect(daemon.uri());
            c.greeting();
            c.out.writeInt(3);
            c.option(RawNbdClient.OPT_GO, goData("hostile"));
            RawNbdClient.OptionReply reply = c.optionReply();
            if (reply.type() != REP_ERR_POLICY) {
                while (reply.type() != RawNbdClient.REP_ACK) {
                    assertThat(reply.type()).as("GO: %s", reply.text()).isEqualTo(RawNbdClient.REP_INFO);
                    reply = c.optionReply();
                }
                return c;
            }
            c.close();
            assertThat(System.nanoTime()).as("a free connection within %s", CLOSE_WAIT).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static byte[] goData(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + n.length + 2).putInt(n.length).put(n).putShort((short) 0).array();
    }

    @Test
    void shouldLogAFewOf10000RefusedRequestsAndSayHowManyMore() throws Exception {
        int before = daemon.log().length();
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), "hostile", false)) {
            for (int batch = 0; batch < 10; batch++) {
                for (int i = 0; i < 1000; i++) { // reads past the end: EINVAL, each one
                    c.out.writeInt(RawNbdClient.REQUEST_MAGIC);
                    c.out.writeShort(0);
                    c.out.writeShort(RawNbdClient.CMD_READ);
                    c.out.writeLong(batch * 1000L + i);
                    c.out.writeLong(c.exportSize);
                    c.out.writeInt(4096);
                }
                c.out.flush();
                for (int i = 0; i < 1000; i++) {
                    assertThat(c.reply(0).error()).isEqualTo(RawNbdClient.EINVAL);
                }
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(25).toNanos();
        while (!daemon.log().substring(before).contains("more refusals suppressed") && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        List<String> lines = daemon.log().substring(before).lines().toList();
        long logged = lines.stream().filter(l -> l.contains("refused READ")).count();
        long suppressed = lines.stream().filter(l -> l.contains("more refusals suppressed"))
                .mapToLong(l -> Long.parseLong(l.replaceAll(".*\\.\\.\\. and ([0-9,]+) more.*", "$1").replace(",", ""))).sum();
        System.out.printf("10,000 refused requests: %d log lines, %d suppressed, %d log lines in all%n", logged,
                suppressed, lines.size());
        assertThat(logged).as("refusal lines logged").isBetween(1L, 20L);
        assertThat(logged + suppressed).as("logged and counted as suppressed").isGreaterThanOrEqualTo(10_000);
        assertWitnessWorks();
    }

    @Test
    void shouldLogAHostileExportNameOnOneLineEscaped() throws Exception {
        int before = daemon.log().length();
        String hostile = "x\n2026-12-07 06:00:00.000 ERROR [main] Main: disk on fire\u001b[2J\u0007";
        try (RawNbdClient c = RawNbdClient.connect(daemon.uri())) {
            c.greeting();
            c.out.writeInt(3);
            c.option(RawNbdClient.OPT_EXPORT_NAME, hostile.getBytes(StandardCharsets.UTF_8));
            assertThat(c.closedByServer(CLOSE_WAIT)).as("unknown export: hard disconnect").isTrue();
        }
        List<String> lines = daemon.log().substring(before).lines().toList();
        assertThat(lines.stream().filter(l -> l.contains("unknown export"))).singleElement().asString()
                .contains("'x\\n2026-12-07 06:00:00.000 ERROR [main] Main: disk on fire\\x1b[2J\\x07'");
        assertThat(lines).noneMatch(l -> l.startsWith("2026-12-07 06:00:00.000"))
                .noneMatch(l -> l.contains("\u001b") || l.contains("\u0007"));
        assertWitnessWorks();
    }

    /** The reproduction: flags 3, then NBD_OPT_LIST 65,536 times per write, 40 times, never reading. */
    private void floodList() {
        ByteBuffer chunk = ByteBuffer.allocate(65536 * 16);
        while (chunk.hasRemaining()) {
            chunk.putLong(RawNbdClient.IHAVEOPT).putInt(RawNbdClient.OPT_LIST).putInt(0);
        }
        try (RawNbdClient c = RawNbdClient.connect(daemon.uri())) {
            c.greeting();
            OutputStream out = c.out;
            out.write(new byte[] {0, 0, 0, 3});
            for (int i = 0; i < 40; i++) {
                out.write(chunk.array());
            }
            out.flush();
            c.closedByServer(Duration.ofSeconds(30));
        } catch (IOException hungUp) {
            // the server hung up on the flood: what it should do
        }
    }

    private long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(daemon.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS for pid " + daemon.pid());
    }

    private List<String> linesWith(String text) throws IOException {
        return daemon.log().lines().filter(l -> l.contains(text)).toList();
    }

    private void assertWitnessWorks() throws IOException {
        assertThat(witness.read(PATTERN_AT, 4096)).isEqualTo(java.util.Arrays.copyOf(pattern, 4096));
    }
}
