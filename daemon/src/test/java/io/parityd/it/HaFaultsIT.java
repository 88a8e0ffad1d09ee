package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * G1, G3 and G4 in HA mode against every other single failure, with three real processes (and a
 * fault-injecting proxy where a link must be cut): the primary paused past its lease, the standby
 * killed, the front killed, the controllers' link cut, the front's link to the primary cut. In
 * each: no client error while a front serves, no acknowledged write lost, never two primaries,
 * and a parity check at the end finds nothing to repair.
 */
class HaFaultsIT {

    private static final long REGION = 16L << 20;

    @TempDir
    Path dir;

    private HaCluster cluster;
    private final long[] expected = new long[(int) (REGION / RandomWriter.BLOCK)];
    private long version;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private String startPair(String... frontExtra) throws Exception {
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("ha", "12M", members, "--chunk", "16K");
        cluster = new HaCluster(dir, members, frontExtra);
        cluster.startController("a");
        cluster.startController("b");
        cluster.startFront();
        return cluster.awaitPair(Duration.ofSeconds(60));
    }

    /** Pipelined writes through the front; {@code fault} runs after {@code before} acknowledgements; all must succeed. */
    private void writeThrough(String what, int before, Fault fault) throws Exception {
        DaemonProcess front = cluster.front();
        try (RandomWriter writer = new RandomWriter(front.uri(), front.exportName(), REGION, version * 31 + 7, version,
                32)) {
            writer.awaitFirstAcks();
            writer.awaitAcknowledged(before);
            int at = writer.acknowledged().size();
            fault.run();
            writer.awaitAcknowledged(at + 300);
            assertThat(writer.finish(Duration.ofSeconds(60))).as("%s: every write answered", what).isTrue();
            assertThat(writer.failure()).as("%s: a write answered with an error", what).isNull();
            record(writer.acknowledged());
            version = writer.lastVersion();
        }
        FailoverIT.verify(front, expected, 0);
    }

    private void record(List<RandomWriter.Sent> acked) {
        for (RandomWriter.Sent s : acked) {
            for (int b = s.firstBlock(); b < s.firstBlock() + s.blocks(); b++) {
                expected[b] = Math.max(expected[b], s.version());
            }
        }
    }

    @FunctionalInterface
    private interface Fault {
        void run() throws Exception;
    }

    @Test
    void shouldTakeOverFromAPausedPrimaryThatThenWritesNothingAndRejoinsAsStandby() throws Exception {
        String primary = startPair();
        DaemonProcess paused = cluster.controller(primary);
        writeThrough("SIGSTOP", 200, () -> {
            paused.pause();
            cluster.awaitPrimary(Duration.ofSeconds(30));
        });
        assertThat(cluster.awaitPrimary(Duration.ofSeconds(5))).isEqualTo(HaCluster.other(primary));
        assertThat(cluster.frontLogs()).contains("fence: killing controller " + primary);
        paused.resume();
        // The fence killed it while stopped: it cannot write a member again, whatever it was doing.
        assertThat(paused.awaitExit(Duration.ofSeconds(10))).as("the paused primary after SIGCONT").isEqualTo(137);
        writeThrough("after SIGCONT", 100, () -> { });
        cluster.startController(primary);
        assertThat(cluster.awaitPair(Duration.ofSeconds(60))).isEqualTo(HaCluster.other(primary));
        assertThat(cluster.controllerLogs(primary)).as("restarted, it rejoins as standby at the higher epoch")
                .contains("is STANDBY at epoch");
        cluster.stopAndCheck();
        cluster = null;
    }

    /**
     * Issue 13, defect 3, as it happened: the primary runs under a parent that does not reap it,
     * is paused past its lease, and the front's fence (SIGKILL) leaves a zombie. The failover must
     * take about a lease and a promotion, not the fence's 10 s timeout and a retry.
     */
    @Test
    void shouldFailOverPromptlyWhenTheFencedPrimaryStaysAZombie() throws Exception {
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("ha", "12M", members, "--chunk", "16K");
        cluster = new HaCluster(dir, members);
        DaemonProcess a = cluster.startControllerUnreaped("a");
        cluster.startController("b");
        cluster.startFront();
        assertThat(cluster.awaitPair(Duration.ofSeconds(60))).as("a, the first in order, serves").isEqualTo("a");
        DaemonProcess front = cluster.front();
        long stall;
        try (RandomWriter writer = new RandomWriter(front.uri(), front.exportName(), REGION, 13, version, 32)) {
            writer.awaitFirstAcks();
            writer.awaitAcknowledged(200);
            int at = writer.latencies().size();
            a.pause();
            writer.awaitAcknowledged(at + 300);
            assertThat(writer.finish(Duration.ofSeconds(60))).isTrue();
            assertThat(writer.failure()).isNull();
            stall = java.util.Collections.max(writer.latencies().subList(at, writer.latencies().size()));
            record(writer.acknowledged());
            version = writer.lastVersion();
        }
        assertThat(cluster.awaitPrimary(Duration.ofSeconds(5))).isEqualTo("b");
        assertThat(a.awaitGone(Duration.ofSeconds(5))).as("a, fenced").isTrue();
        assertThat(Files.readString(Path.of("/proc", Long.toString(a.pid()), "stat"))).as("a is an unreaped zombie")
                .containsPattern("\\) Z ");
        assertThat(cluster.frontLogs()).contains("fence: killing controller a").doesNotContain("FENCING FAILED");
        assertThat(stall).as("the longest write latency across the failover (ns)")
                .isLessThan(Duration.ofSeconds(5).toNanos());
        FailoverIT.verify(front, expected, 0);
        cluster.stopAndCheck();
        cluster = null;
    }

    /**
     * A primary with no standby in sync (it was killed) is paused past its lease: fencing it
     * would leave nobody to serve, so the front waits, and the primary, answering again, serves
     * on. The client sees a stall, not an error, and the primary was never killed.
     */
    @Test
    void shouldNotFenceALonePrimaryThatWasOnlySlow() throws Exception {
        String primary = startPair();
        String standby = HaCluster.other(primary);
        writeThrough("standby killed", 200, () -> cluster.controller(standby).kill());
        DaemonProcess slow = cluster.controller(primary);
        writeThrough("the lone primary paused for 1.5 s", 200, () -> {
            slow.pause();
            Thread.sleep(1500);
            slow.resume();
        });
        assertThat(slow.isAlive()).as("the lone primary, not fenced").isTrue();
        assertThat(cluster.frontLogs()).contains("no other controller is in sync to take over from " + primary)
                .contains("primary " + primary + " answers again").doesNotContain("fence: killing");
        cluster.startController(standby);
        assertThat(cluster.awaitPair(Duration.ofSeconds(60))).isEqualTo(primary);
        cluster.stopAndCheck();
        cluster = null;
    }

    /**
     * Issue 13, defect 2, as it happened: a restarted controller is paused while it copies the
     * primary's journal, past what the front allows it; the front drops it and dials again once
     * it answers. It must give up the old link's role, take the new assignment and come back in
     * sync, while the client sees nothing.
     */
    @Test
    void shouldRejoinAsStandbyAfterBeingPausedMidJoin() throws Exception {
        String primary = startPair();
        String standby = HaCluster.other(primary);
        writeThrough("standby killed", 200, () -> cluster.controller(standby).kill());
        DaemonProcess front = cluster.front();
        try (RandomWriter writer = new RandomWriter(front.uri(), front.exportName(), REGION, 17, version, 32)) {
            writer.awaitFirstAcks();
            DaemonProcess restarted = cluster.startController(standby);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!restarted.log().contains("joining primary")) {
                assertThat(System.nanoTime()).as("the restarted controller starts to join").isLessThan(deadline);
                Thread.sleep(2);
            }
            restarted.pause();
            Thread.sleep(2500); // past the 4 leases (2 s) the front allows a controller that is not primary
            restarted.resume();
            assertThat(cluster.awaitPair(Duration.ofSeconds(60))).isEqualTo(primary);
            int at = writer.acknowledged().size();
            writer.awaitAcknowledged(at + 200);
            assertThat(writer.finish(Duration.ofSeconds(60))).isTrue();
            assertThat(writer.failure()).isNull();
            record(writer.acknowledged());
            version = writer.lastVersion();
        }
        assertThat(cluster.frontLogs()).as("the front dropped the paused one").contains("silent for");
        assertThat(cluster.controllerLogs(standby)).as("what the rejoining controller logged")
                .doesNotContain("is not allowed").doesNotContain("cannot become").contains("is STANDBY at epoch");
        FailoverIT.verify(front, expected, 0);
        writeThrough("primary killed after the standby rejoined", 200, () -> cluster.controller(primary).kill());
        assertThat(cluster.awaitPrimary(Duration.ofSeconds(5))).isEqualTo(standby);
        cluster.stopAndCheck();
        cluster = null;
    }

    /**
     * Issue 14, defect 3, with the real processes: someone without the secret connects to both
     * controllers and relays each one's bytes to the other, so each sees the other's HELLO and
     * AUTH. Both must refuse (the AUTH names the side that sent it, and both answered), and the
     * pair serves on as it was.
     */
    @Test
    void shouldRefuseALinkRelayedBetweenTheControllers() throws Exception {
        String primary = startPair();
        try (java.net.Socket toA = new java.net.Socket("127.0.0.1", cluster.port("a"));
             java.net.Socket toB = new java.net.Socket("127.0.0.1", cluster.port("b"))) {
            Thread ab = relay(toA, toB);
            Thread ba = relay(toB, toA);
            ab.join(TimeUnit.SECONDS.toMillis(10));
            ba.join(TimeUnit.SECONDS.toMillis(10));
            assertThat(ab.isAlive() || ba.isAlive()).as("both controllers closed the relayed connections").isFalse();
        }
        for (String id : List.of("a", "b")) {
            assertThat(cluster.controllerLogs(id)).as("controller %s", id).contains("authentication failed");
        }
        assertThat(cluster.controllerLogs(primary)).as("the real standby's link was never disturbed")
                .doesNotContain("the standby's link closed").doesNotContain("ignored");
        assertThat(cluster.frontLogs()).doesNotContain("goes on without a standby");
        writeThrough("after the relay", 200, () -> { });
        cluster.stopAndCheck();
        cluster = null;
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
            n++;
        }
        return n;
    }

    /** Issue 14, defect 4: a front that has never heard from a controller stops on SIGTERM, at once. */
    @Test
    void shouldStopAFrontThatWaitsForItsControllersOnSigterm() throws Exception {
        Path secret = dir.resolve("secret");
        java.nio.file.Files.writeString(secret, "a shared secret for the test pair, long enough\n");
        java.nio.file.Files.setPosixFilePermissions(secret,
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        int nobody = HaCluster.freePort();
        try (DaemonProcess front = DaemonProcess.start(dir.resolve("lonely-front.log"),
                java.util.regex.Pattern.compile("linking to controllers"), "front", "--listen", "127.0.0.1:0",
                "--controller", "a=127.0.0.1:" + nobody, "--controller", "b=127.0.0.1:" + nobody,
                "--secret-file", secret.toString(), "--admin-socket", dir.resolve("lonely.sock").toString())) {
            Thread.sleep(1000);
            long stopping = System.nanoTime();
            assertThat(front.terminate(Duration.ofSeconds(10))).as("exit status on SIGTERM").isZero();
            assertThat(Duration.ofNanos(System.nanoTime() - stopping)).isLessThan(Duration.ofSeconds(3));
            assertThat(front.log()).contains("stopped before any controller said which array it serves");
        }
    }

    /**
     * Copies bytes from {@code from} to {@code to} until {@code from} ends, then passes the end on
     * as a half-close. Closing both sockets instead would reset {@code to} while it still held
     * unread bytes, and a reset makes the peer drop what it had received but not yet read: the
     * other controller's refusal could then vanish before its handshake saw it.
     */
    private static Thread relay(java.net.Socket from, java.net.Socket to) {
        Thread t = new Thread(() -> {
            try {
                from.getInputStream().transferTo(to.getOutputStream());
            } catch (java.io.IOException e) {
                // one end reset
            }
            try {
                to.shutdownOutput();
            } catch (java.io.IOException e) {
                // closed already
            }
        }, "relay");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void shouldRefuseAFrontWithAnotherSecretAndGoOnServing() throws Exception {
        startPair();
        Path wrong = dir.resolve("wrong-secret");
        java.nio.file.Files.writeString(wrong, "not the pair's secret, but long enough\n");
        java.nio.file.Files.setPosixFilePermissions(wrong, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path log = dir.resolve("intruder.log");
        try (DaemonProcess intruder = DaemonProcess.start(log, java.util.regex.Pattern.compile("shared secret differs"),
                "front", "--listen", "127.0.0.1:0", "--controller", "a=127.0.0.1:" + cluster.port("a"),
                "--controller", "b=127.0.0.1:" + cluster.port("b"), "--secret-file", wrong.toString(),
                "--admin-socket", dir.resolve("intruder.sock").toString())) {
            assertThat(intruder.log()).contains("shared secret differs").doesNotContain("serving 'ha'");
            // Issue 14, defect 4: it retries, backing off, without flooding either log, and stops on SIGTERM.
            int before = count(cluster.controllerLogs("a"), "authentication failed");
            Thread.sleep(4000);
            int during = count(cluster.controllerLogs("a"), "authentication failed") - before;
            assertThat(during).as("refused attempts on controller a in 4 s (one every 200 ms before)").isLessThan(8);
            assertThat(count(intruder.log(), "refused the link")).as("refusals the intruder logged").isLessThanOrEqualTo(4);
            long stopping = System.nanoTime();
            assertThat(intruder.terminate(Duration.ofSeconds(10))).as("exit status on SIGTERM").isZero();
            assertThat(Duration.ofNanos(System.nanoTime() - stopping)).isLessThan(Duration.ofSeconds(5));
        }
        assertThat(cluster.controllerLogs("a") + cluster.controllerLogs("b")).contains("authentication failed");
        writeThrough("the real front, after the intruder", 200, () -> { });
        cluster.stopAndCheck();
        cluster = null;
    }

    @Test
    void shouldHandOverWithoutAnErrorWhenThePrimaryIsStoppedCleanly() throws Exception {
        String primary = startPair();
        DaemonProcess stopping = cluster.controller(primary);
        writeThrough("SIGTERM of the primary", 200, () -> assertThat(stopping.terminate(Duration.ofSeconds(60)))
                .as("a primary's clean stop").isZero());
        assertThat(cluster.awaitPrimary(Duration.ofSeconds(5))).isEqualTo(HaCluster.other(primary));
        assertThat(cluster.controllerLogs(HaCluster.other(primary)))
                .as("the old primary marked the array clean: nothing to redo").contains("the array was clean");
        cluster.startController(primary);
        assertThat(cluster.awaitPair(Duration.ofSeconds(60))).isEqualTo(HaCluster.other(primary));
        writeThrough("after the old primary rejoined", 100, () -> { });
        cluster.stopAndCheck();
        cluster = null;
    }

    @Test
    void shouldGoOnWithoutAKilledStandbyAndLoseNothingWhenThePrimaryDiesAfterItRejoins() throws Exception {
        String primary = startPair();
        String standby = HaCluster.other(primary);
        writeThrough("standby killed", 200, () -> cluster.controller(standby).kill());
        assertThat(cluster.frontLogs()).contains("primary " + primary + " goes on without a standby at epoch");
        cluster.startController(standby);
        assertThat(cluster.awaitPair(Duration.ofSeconds(60))).isEqualTo(primary);
        writeThrough("primary killed after the standby rejoined", 200, () -> cluster.controller(primary).kill());
        assertThat(cluster.awaitPrimary(Duration.ofSeconds(5))).isEqualTo(standby);
        cluster.stopAndCheck();
        cluster = null;
    }

    @Test
    void shouldServeEveryAcknowledgedWriteThroughARestartedFront() throws Exception {
        String primary = startPair();
        DaemonProcess front = cluster.front();
        Map<Integer, Long> inFlight = new HashMap<>();
        try (RandomWriter writer = new RandomWriter(front.uri(), front.exportName(), REGION, 99, version, 32)) {
            writer.awaitFirstAcks();
            writer.awaitAcknowledged(300);
            front.kill();
            writer.awaitEnd();
            assertThat(writer.failure()).isNull();
            record(writer.acknowledged());
            for (RandomWriter.Sent s : writer.unacknowledged()) {
                for (int b = s.firstBlock(); b < s.firstBlock() + s.blocks(); b++) {
                    inFlight.put(b, s.version());
                }
            }
            version = writer.lastVersion();
        }
        DaemonProcess restarted = cluster.startFront();
        assertThat(cluster.awaitPair(Duration.ofSeconds(60))).as("the same primary, found serving").isEqualTo(primary);
        assertThat(restarted.log()).contains("controller " + primary + " is primary at epoch")
                .doesNotContain("promoting");
        // Each block: its last acknowledged version, or the one in flight when the front died.
        try (RawNbdClient c = RawNbdClient.open(restarted.uri(), restarted.exportName(), true)) {
            byte[] data = c.read(0, (int) REGION);
            for (int block = 0; block < expected.length; block++) {
                byte[] b = java.util.Arrays.copyOfRange(data, block * RandomWriter.BLOCK, (block + 1) * RandomWriter.BLOCK);
                long v = RandomWriter.versionOf(b, block);
                Long pending = inFlight.get(block);
                assertThat(v == expected[block] || (pending != null && v == pending))
                        .as("block %d holds version %d; acknowledged %d, in flight %s", block, v, expected[block], pending)
                        .isTrue();
                expected[block] = v;
            }
        }
        writeThrough("after the front restarted", 100, () -> { });
        cluster.stopAndCheck();
        cluster = null;
    }

    @Test
    void shouldKeepOnePrimaryAndLoseNothingWhenOnlyTheControllersLinkIsCut() throws Exception {
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("ha", "12M", members, "--chunk", "16K");
        cluster = new HaCluster(dir, members);
        // Each controller advertises a proxy to the other: only their link goes through it.
        try (FaultProxy toA = FaultProxy.start(new InetSocketAddress("127.0.0.1", cluster.port("a")));
             FaultProxy toB = FaultProxy.start(new InetSocketAddress("127.0.0.1", cluster.port("b")))) {
            cluster.startController("a", "--advertise", "127.0.0.1:" + toA.port());
            cluster.startController("b", "--advertise", "127.0.0.1:" + toB.port());
            cluster.startFront();
            String primary = cluster.awaitPair(Duration.ofSeconds(60));
            FaultProxy between = primary.equals("a") ? toA : toB;
            writeThrough("controllers' link blackholed", 200, () -> between.blackhole(true));
            assertThat(cluster.frontLogs()).contains("reports its standby")
                    .contains("primary " + primary + " goes on without a standby at epoch");
            assertThat(cluster.awaitPrimary(Duration.ofSeconds(1))).as("never two primaries").isEqualTo(primary);
            assertThat(cluster.promotions()).as("only the first promotion").isEqualTo(1);
            between.restore();
            assertThat(cluster.awaitPair(Duration.ofSeconds(90))).isEqualTo(primary);
            writeThrough("primary killed once the link is back", 200, () -> cluster.controller(primary).kill());
            assertThat(cluster.awaitPrimary(Duration.ofSeconds(5))).isEqualTo(HaCluster.other(primary));
        }
        cluster.stopAndCheck();
        cluster = null;
    }

    @Test
    void shouldFailOverWithoutTwoPrimariesWhenOnlyTheFrontsLinkToThePrimaryIsCut() throws Exception {
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("ha", "12M", members, "--chunk", "16K");
        cluster = new HaCluster(dir, members);
        try (FaultProxy frontToA = FaultProxy.start(new InetSocketAddress("127.0.0.1", cluster.port("a")))) {
            cluster.frontDials("a", frontToA.port());
            cluster.startController("a");
            cluster.startController("b");
            cluster.startFront();
            String primary = cluster.awaitPair(Duration.ofSeconds(60));
            if (!primary.equals("a")) {
                // The proxy sits on a's link: make a the primary first.
                writeThrough("b killed so that a serves", 100, () -> cluster.controller("b").kill());
                cluster.startController("b");
                assertThat(cluster.awaitPair(Duration.ofSeconds(60))).isEqualTo("a");
            }
            writeThrough("front's link to the primary blackholed", 200, () -> frontToA.blackhole(true));
            assertThat(cluster.awaitPrimary(Duration.ofSeconds(5))).isEqualTo("b");
            assertThat(cluster.frontLogs()).contains("fence: killing controller a");
            assertThat(cluster.controller("a").awaitExit(Duration.ofSeconds(10))).as("a, fenced").isEqualTo(137);
            frontToA.restore();
        }
        cluster.stopAndCheck();
        cluster = null;
    }
}
