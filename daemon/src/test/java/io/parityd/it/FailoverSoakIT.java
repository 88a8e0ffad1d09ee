package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The failover soak of issue 13, with three real processes and one client connection held for
 * the whole run ({@link SoakClient}: pipelined verified writes, FUA, WRITE_ZEROES, FLUSH and
 * reads). Each round fails the primary (kill -9, or in one round of six SIGSTOP past its lease),
 * at a moment drawn by the seed, often right after the standby came back in sync (where a
 * standby that journaled wrong bytes while it joined would be promoted with them); waits for the
 * failover; writes on; reads every block back; restarts the dead controller and waits until it is
 * the standby again, in sync. Fails on any client error, any lost, torn or misplaced block, a
 * failover that does not happen, a standby that is not back within {@link #REJOIN_BOUND}, and
 * any buffer leak or misuse in the logs ({@link HaCluster#close}).
 *
 * <p>The suite runs {@code -Dparityd.soak.rounds} rounds (3 by default); {@code bench/failover-soak.sh
 * --rounds N} runs more. {@code -Dparityd.soak.seed=S} repeats a run's choices.
 */
class FailoverSoakIT {

    static final int ROUNDS = Integer.getInteger("parityd.soak.rounds", 3);
    private static final long REGION = 24L << 20;
    /** A restarted controller copies the primary's journal and is back as standby well within this. */
    static final Duration REJOIN_BOUND = Duration.ofSeconds(45);
    /** A failover that has not happened by then never will. */
    private static final Duration FAILOVER_BOUND = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private HaCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void shouldLoseNothingAcrossFailoversUnderOneConnection() throws Exception {
        long seed = Long.getLong("parityd.soak.seed", System.nanoTime());
        System.out.printf("FailoverSoakIT: %d rounds, seed %d (-Dparityd.soak.seed=%d repeats it)%n", ROUNDS, seed, seed);
        Random random = new Random(seed);
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("soak", "12M", members, "--chunk", "16K");
        int metricsPort = HaCluster.freePort();
        cluster = new HaCluster(dir, members, "--metrics", "127.0.0.1:" + metricsPort);
        cluster.startController("a");
        cluster.startController("b");
        DaemonProcess front = cluster.startFront();
        String primary = cluster.awaitPair(Duration.ofSeconds(60));

        List<Long> stalls = new ArrayList<>();
        List<Long> rejoins = new ArrayList<>();
        try (SoakClient client = new SoakClient(front.uri(), front.exportName(), REGION, random.nextLong(), 32)) {
            assertThat(client.awaitWrites(300, Duration.ofSeconds(60))).as("first writes: %s", client.failures()).isTrue();
            for (int round = 1; round <= ROUNDS; round++) {
                boolean pause = round % 6 == 3;
                // Often at once: the standby has only just come back in sync, with what it queued while joining.
                int before = random.nextInt(3) == 0 ? 1 + random.nextInt(20) : 50 + random.nextInt(1000);
                assertThat(client.awaitWrites(before, Duration.ofSeconds(60))).as("round %d, before the fault: %s", round,
                        client.failures()).isTrue();
                int promotions = cluster.promotions();
                long faultAt = System.nanoTime();
                DaemonProcess victim = cluster.controller(primary);
                if (pause) {
                    victim.pause(); // the front fences it (SIGKILL) once its lease runs out
                } else {
                    victim.kill();
                }
                awaitPromotion(promotions, round);
                if (pause) {
                    assertThat(victim.awaitGone(Duration.ofSeconds(10))).as("round %d: the paused primary fenced", round)
                            .isTrue();
                }
                String promoted = cluster.awaitPrimary(Duration.ofSeconds(5));
                assertThat(promoted).as("round %d: the other controller serves", round).isEqualTo(HaCluster.other(primary));
                assertThat(client.awaitWrites(200, Duration.ofSeconds(60))).as("round %d, after the failover: %s", round,
                        client.failures()).isTrue();
                long sweepAt = System.nanoTime();
                stalls.add(client.longestWaitNanos(faultAt, sweepAt));
                assertThat(client.sweep(Duration.ofSeconds(60))).as("round %d: the sweep's reads answered", round).isTrue();
                assertThat(client.failures()).as("round %d (%s): what the client saw", round, pause ? "SIGSTOP" : "kill -9")
                        .isEmpty();

                long restartAt = System.nanoTime();
                cluster.startController(primary); // writes go on while it copies and joins
                String serving = cluster.awaitPair(REJOIN_BOUND);
                rejoins.add(System.nanoTime() - restartAt);
                assertThat(serving).isEqualTo(promoted);
                primary = promoted;
            }
            assertThat(client.sweep(Duration.ofSeconds(60))).as("the last sweep's reads answered").isTrue();
            assertThat(client.failures()).as("what the client saw").isEmpty();
            System.out.printf("FailoverSoakIT: %d rounds, %s, 0 errors, 0 lost, 0 torn, 0 stuck standbys;"
                            + " stall per failover (ms): longest %.0f, p50 %.0f, p99 %.0f, all %s; rejoin (s): longest %.1f%n",
                    ROUNDS, client.totals(), ms(Collections.max(stalls)), ms(percentile(stalls, 0.50)),
                    ms(percentile(stalls, 0.99)), stalls.stream().map(n -> String.format("%.0f", ms(n))).toList(),
                    Collections.max(rejoins) / 1e9);
        }
        String scrape = scrape(metricsPort);
        assertThat(scrape).as("the front's failover histogram counts every failover")
                .containsPattern("(?m)^parityd_ha_failover_seconds_count(\\{[^}]*\\})? " + ROUNDS + "(\\.0)?$");
        scrape.lines().filter(l -> l.startsWith("parityd_ha_failover_seconds_bucket")).forEach(System.out::println);
        cluster.stopAndCheck();
        cluster = null;
    }

    static String scrape(int port) throws Exception {
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build();
        return java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private void awaitPromotion(int before, int round) throws Exception {
        long deadline = System.nanoTime() + FAILOVER_BOUND.toNanos();
        while (cluster.promotions() <= before) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("round " + round + ": no failover within " + FAILOVER_BOUND + "\n"
                        + cluster.frontLogs());
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    static long percentile(List<Long> values, double p) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
