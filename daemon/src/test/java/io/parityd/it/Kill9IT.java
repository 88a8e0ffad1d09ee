package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * G1 against the real daemon process: kill -9 at random moments under pipelined random writes,
 * round after round on the same array (issue 4). After each restart (which replays the journal):
 * every acknowledged write reads back, no block is torn (each holds one whole version: the last
 * acknowledged, or one that was in flight), and a scrub finds zero parity mismatches.
 *
 * <p>{@code -Dparityd.kill9.rounds=N} runs more rounds; {@code bench/kill9-soak.sh} runs thousands.
 * {@code -Dparityd.kill9.seed=S} repeats a run's choices (the seed is printed).
 */
class Kill9IT extends DaemonTestBase {

    private static final int ROUNDS = Integer.getInteger("parityd.kill9.rounds", 20);
    private static final long REGION = 16L << 20;
    private static final java.util.regex.Pattern REPLAYED = java.util.regex.Pattern.compile("recovered from journal .*: (\\d+) requests");

    @Test
    void shouldLoseNoAcknowledgedWriteAndTearNoBlockAcrossKill9Rounds() throws Exception {
        long seed = Long.getLong("parityd.kill9.seed", System.nanoTime());
        System.out.printf("Kill9IT: %d rounds, seed %d (-Dparityd.kill9.seed=%d repeats it)%n", ROUNDS, seed, seed);
        Random random = new Random(seed);
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("k9", "12M", members, "--chunk", "16K");
        int blocks = (int) (REGION / RandomWriter.BLOCK);
        long[] expected = new long[blocks];
        Map<Integer, Long> inFlight = new HashMap<>();
        long version = 0;
        long ackedTotal = 0;
        long replayedRounds = 0;
        for (int round = 1; round <= ROUNDS; round++) {
            Path log = dir.resolve("round-" + round + ".log");
            daemon = Arrays.serve(log, members);
            if (round > 1) {
                assertThat(daemon.log()).as("round %d restart", round).contains("was not shut down cleanly")
                        .contains("recovered from journal").doesNotContain("resyncing every stripe");
                java.util.regex.Matcher m = REPLAYED.matcher(daemon.log());
                assertThat(m.find()).as("round %d: the replay says what it did", round).isTrue();
                if (Long.parseLong(m.group(1)) > 0) {
                    replayedRounds++;
                }
            }
            verify(round, expected, inFlight);
            scrubClean(log, round);

            try (RandomWriter writer = new RandomWriter(daemon.uri(), daemon.exportName(), REGION,
                    random.nextLong(), version, 64)) {
                writer.awaitFirstAcks();
                writer.awaitAcknowledged(20 + random.nextInt(1500)); // a random moment, by count of acknowledgments
                daemon.kill();
                writer.awaitEnd();
                assertThat(writer.failure()).as("round %d: a write answered with an error", round).isNull();
                inFlight.clear();
                for (RandomWriter.Sent s : writer.acknowledged()) {
                    for (int b = s.firstBlock(); b < s.firstBlock() + s.blocks(); b++) {
                        expected[b] = Math.max(expected[b], s.version());
                    }
                    ackedTotal++;
                }
                for (RandomWriter.Sent s : writer.unacknowledged()) {
                    for (int b = s.firstBlock(); b < s.firstBlock() + s.blocks(); b++) {
                        inFlight.put(b, s.version());
                    }
                }
                version = writer.lastVersion();
            }
            daemon.close();
            daemon = null;
        }
        daemon = Arrays.serve(dir.resolve("final.log"), members);
        verify(ROUNDS + 1, expected, inFlight);
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;
        Arrays.assertParityClean(members);
        System.out.printf("Kill9IT: %d rounds, %d writes acknowledged, %d restarts had writes to redo%n",
                ROUNDS, ackedTotal, replayedRounds);
        assertThat(replayedRounds).as("restarts that found writes in the journal to redo (else nothing was tested)")
                .isPositive();
    }

    /** Every block holds its last acknowledged version or the one in flight at the kill, whole; updates {@code expected}. */
    private void verify(int round, long[] expected, Map<Integer, Long> inFlight) throws Exception {
        int chunk = 1 << 20;
        int perChunk = chunk / RandomWriter.BLOCK;
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), daemon.exportName(), true)) {
            for (long off = 0; off < REGION; off += chunk) {
                byte[] data = c.read(off, chunk);
                for (int i = 0; i < perChunk; i++) {
                    int block = (int) (off / RandomWriter.BLOCK) + i;
                    byte[] b = java.util.Arrays.copyOfRange(data, i * RandomWriter.BLOCK, (i + 1) * RandomWriter.BLOCK);
                    long v = RandomWriter.versionOf(b, block);
                    assertThat(v).as("round %d: block %d is torn or foreign", round, block).isNotNegative();
                    Long pending = inFlight.get(block);
                    assertThat(v == expected[block] || (pending != null && v == pending))
                            .as("round %d: block %d holds version %d; acknowledged %d, in flight %s", round, block, v,
                                    expected[block], pending)
                            .isTrue();
                    expected[block] = v;
                }
            }
        }
    }

    private static void scrubClean(Path log, int round) throws Exception {
        Parityd.Result scrub = new Admin(Arrays.adminSocket(log)).run("scrub");
        assertThat(scrub.exitCode()).as("round %d scrub: %s", round, scrub.all()).isZero();
        assertThat(scrub.stdout()).as("round %d scrub", round).contains(": 0 parity mismatches");
    }
}
