package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * G1 against the real daemon process: kill -9 at random moments under pipelined random writes,
 * round after round on the same array (issue 4). After each restart (which replays the journal):
 * every acknowledged write reads back, no block is torn (each holds one whole version: the last
 * acknowledged, or one that was in flight), and a scrub finds zero parity mismatches.
 *
 * <p>The same on a degraded array (a member failed by the operator before the first kill): every
 * restart starts without {@code --force}, since the journal's preimages cover the degraded
 * stripes; the verification reads the failed member's chunks through reconstruction, which
 * lying parity would get wrong; at the end the member is replaced and rebuilt from that parity,
 * and everything is verified again.
 *
 * <p>{@code -Dparityd.kill9.rounds=N} runs more rounds; {@code bench/kill9-soak.sh} runs thousands.
 * {@code -Dparityd.kill9.seed=S} repeats a run's choices (the seed is printed).
 */
class Kill9IT extends DaemonTestBase {

    private static final int ROUNDS = Integer.getInteger("parityd.kill9.rounds", 8);
    private static final long REGION = 16L << 20;
    /** What the recovery at a restart did: requests (data) or unfinished commands, and dirty regions (commands). */
    private static final Pattern REPLAYED = Pattern.compile(
            "recovered from journal .*: (\\d+) (?:requests|unfinished commands)(?: and (\\d+) dirty regions)?");
    private static final Pattern RESTORED = Pattern.compile("(\\d+) degraded ones restored from preimages");

    /** The journal mode of each round: one mode throughout, or each restart in the other one. */
    enum Modes {
        COMMANDS("commands", "commands"), DATA("data", "data"), ALTERNATING("commands", "data");

        final String odd;
        final String even;

        Modes(String odd, String even) {
            this.odd = odd;
            this.even = even;
        }

        String of(int round) {
            return round % 2 == 1 ? odd : even;
        }
    }

    @Test
    void shouldLoseNoAcknowledgedWriteAndTearNoBlockAcrossKill9Rounds() throws Exception {
        rounds(ROUNDS, false, Modes.COMMANDS);
    }

    @Test
    void shouldLoseNothingOfADegradedArrayAcrossKill9Rounds() throws Exception {
        rounds(Math.max(4, ROUNDS / 3), true, Modes.COMMANDS);
    }

    @Test
    void shouldLoseNothingAcrossKill9RoundsWithADataJournal() throws Exception {
        rounds(Math.max(4, ROUNDS / 4), false, Modes.DATA);
    }

    @Test
    void shouldLoseNothingOfADegradedArrayWithADataJournal() throws Exception {
        rounds(4, true, Modes.DATA);
    }

    /**
     * Issue 15: every restart after a kill -9 switches modes on a dirty journal (data to commands
     * and back): what the journal held is finished in its own mode, and no answered write is lost.
     */
    @Test
    void shouldLoseNothingWhenEachRestartSwitchesTheJournalMode() throws Exception {
        rounds(4, false, Modes.ALTERNATING); // data→commands and commands→data, twice each
    }

    private void rounds(int rounds, boolean degraded, Modes modes) throws Exception {
        long seed = Long.getLong("parityd.kill9.seed", System.nanoTime());
        System.out.printf("Kill9IT%s, %s: %d rounds, seed %d (-Dparityd.kill9.seed=%d repeats it)%n",
                degraded ? " (degraded)" : "", modes, rounds, seed, seed);
        Random random = new Random(seed);
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("k9", "12M", members, "--chunk", "16K");
        if (degraded) {
            daemon = Arrays.serve(dir.resolve("fail.log"), members, "--journal", modes.of(0));
            Parityd.Result failed = new Admin(Arrays.adminSocket(dir.resolve("fail.log"))).run("fail", "1");
            assertThat(failed.exitCode()).as(failed.all()).isZero();
            daemon.kill(); // and a crash, for good measure: the start after it must not need --force
            daemon.close();
            daemon = null;
        }
        int blocks = (int) (REGION / RandomWriter.BLOCK);
        long[] expected = new long[blocks];
        Map<Integer, Long> inFlight = new HashMap<>();
        long version = 0;
        long ackedTotal = 0;
        long replayedRounds = 0;
        long restoredStripes = 0;
        for (int round = 1; round <= rounds; round++) {
            Path log = dir.resolve("round-" + round + ".log");
            daemon = Arrays.serve(log, members, "--journal", modes.of(round));
            if (round > 1 || degraded) {
                assertThat(daemon.log()).as("round %d restart", round).contains("was not shut down cleanly")
                        .contains("recovered from journal").doesNotContain("resyncing every stripe");
                Matcher m = REPLAYED.matcher(daemon.log());
                assertThat(m.find()).as("round %d: the replay says what it did", round).isTrue();
                if (Long.parseLong(m.group(1)) > 0 || (m.group(2) != null && Long.parseLong(m.group(2)) > 0)) {
                    replayedRounds++;
                }
                if (!modes.of(round).equals(modes.of(round - 1))) {
                    assertThat(daemon.log()).as("round %d: the mode switch", round)
                            .contains("finished in that mode, it holds " + modes.of(round) + " from now on");
                }
                Matcher r = RESTORED.matcher(daemon.log());
                if (r.find()) {
                    restoredStripes += Long.parseLong(r.group(1));
                }
            }
            verify(round, expected, inFlight);
            if (!degraded) {
                scrubClean(log, round); // a degraded RAID-5 has nothing left to compare parity with
            }

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
        Path finalLog = dir.resolve("final.log");
        daemon = Arrays.serve(finalLog, members, "--journal", modes.of(rounds + 1));
        verify(rounds + 1, expected, inFlight);
        List<Path> now = members;
        if (degraded) {
            now = new ArrayList<>(members);
            now.set(1, SparseFiles.create(dir.resolve("new1.img"), Files.size(members.get(1))));
            Admin admin = new Admin(Arrays.adminSocket(finalLog));
            Parityd.Result replaced = admin.run("replace", "1", now.get(1).toString());
            assertThat(replaced.exitCode()).as(replaced.all()).isZero();
            admin.awaitClean(Duration.ofMinutes(2));
            verify(rounds + 2, expected, inFlight); // the failed member's chunks, rebuilt from parity
        }
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;
        Arrays.assertParityClean(now);
        System.out.printf("Kill9IT%s, %s: %d rounds, %d writes acknowledged, %d restarts had writes to recover,"
                + " %d stripes restored from preimages%n", degraded ? " (degraded)" : "", modes, rounds, ackedTotal,
                replayedRounds, restoredStripes);
        assertThat(replayedRounds).as("restarts that found writes in the journal to redo (else nothing was tested)")
                .isPositive();
        if (degraded) {
            assertThat(restoredStripes).as("degraded stripes restored from preimages over all restarts (else the"
                    + " degraded path was not tested)").isPositive();
        }
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
