package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The two ways a daemon ends under load. SIGTERM: every request already received is answered,
 * new ones get ESHUTDOWN, exit status 0, array clean. kill -9: every write the client saw
 * acknowledged is there after a restart, the array is known dirty, and its parity is resynced
 * in the background until a check finds nothing wrong — that last part without the journal
 * ({@code --no-journal}, md's behaviour without a bitmap); with it, {@link Kill9IT} shows the
 * journal replay instead.
 */
class StopAndCrashIT extends DaemonTestBase {

    private static final int SLOTS = 1500;
    private static final int ESHUTDOWN = 108;

    @Test
    void shouldAnswerInFlightRequestsAndExitZeroOnSigterm() throws Exception {
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create("term", "65M", members);
        daemon = Arrays.serve(dir.resolve("parityd-1.log"), members);

        Map<Integer, Integer> replies;
        try (PipelinedWriter load = new PipelinedWriter(daemon.uri(), "term", SLOTS)) {
            load.awaitFirstAcks();
            assertThat(daemon.terminate(Duration.ofSeconds(60))).as("exit status after SIGTERM").isZero();
            load.awaitEnd();
            replies = load.replies();
        }
        assertThat(replies.values()).as("only success or ESHUTDOWN").allMatch(e -> e == 0 || e == ESHUTDOWN);
        assertThat(daemon.log()).contains("SIGTERM received").contains("stopped cleanly");

        List<Integer> acknowledged = acknowledged(replies);
        daemon = Arrays.serve(dir.resolve("parityd-2.log"), members);
        assertThat(daemon.log()).doesNotContain("not shut down cleanly");
        assertAcknowledgedWritesIntact(acknowledged);
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        Arrays.assertParityClean(members);
    }

    @Test
    void shouldKeepAcknowledgedWritesAndResyncParityAfterKill9WithoutAJournal() throws Exception {
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("crash", "65M", members, "--chunk", "16K");
        daemon = Arrays.serve(dir.resolve("parityd-1.log"), members, "--no-journal");

        Map<Integer, Integer> replies;
        try (PipelinedWriter load = new PipelinedWriter(daemon.uri(), "crash", SLOTS)) {
            load.awaitFirstAcks();
            daemon.kill();
            load.awaitEnd();
            replies = load.replies();
        }
        List<Integer> acknowledged = acknowledged(replies);

        daemon = Arrays.serve(dir.resolve("parityd-2.log"), members, "--no-journal");
        assertThat(daemon.log()).contains("was not shut down cleanly");
        awaitLog("resync of 'crash' complete", Duration.ofMinutes(2));
        assertAcknowledgedWritesIntact(acknowledged);
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        Arrays.assertParityClean(members);
        assertThat(Parityd.run("examine", members.get(0).toString()).stdout()).contains("state:      clean");
    }

    private static List<Integer> acknowledged(Map<Integer, Integer> replies) {
        List<Integer> acked = replies.entrySet().stream().filter(e -> e.getValue() == 0).map(Map.Entry::getKey).sorted().toList();
        assertThat(acked).as("acknowledged writes").isNotEmpty();
        return acked;
    }

    private void assertAcknowledgedWritesIntact(List<Integer> acknowledged) throws Exception {
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), daemon.exportName(), true)) {
            for (int slot : acknowledged) {
                assertThat(c.read((long) slot * PipelinedWriter.SLOT, PipelinedWriter.SLOT))
                        .as("acknowledged write %d", slot).isEqualTo(PipelinedWriter.pattern(slot, 0));
            }
        }
    }

    private void awaitLog(String text, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!daemon.log().contains(text)) {
            assertThat(System.nanoTime()).as("'%s' in the log within %s:\n%s", text, timeout, daemon.log()).isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }
}
