package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 15: the journal's mode as an operator sees it. A new start journals commands; status
 * (text and JSON) and the metrics say so, with the records, the dirty regions and how many writes
 * waited for a sync; a start with --journal data takes the clean journal over in that mode; a
 * bad mode is refused by name.
 */
class JournalModeIT extends DaemonTestBase {

    @Test
    void shouldShowTheModeInStatusAndMetrics() throws Exception {
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("modes", "64M", members);
        int port = HaCluster.freePort();
        Path log = dir.resolve("commands.log");
        daemon = Arrays.serve(log, members, "--metrics", "127.0.0.1:" + port);
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), daemon.exportName(), false)) {
            for (int i = 0; i < 64; i++) {
                c.write((long) i * (1 << 20), new byte[65536]);
            }
        }
        assertThat(daemon.log()).contains("journals write commands and dirty 16 MiB regions");
        Parityd.Result status = new Admin(Arrays.adminSocket(log)).run("status");
        assertThat(status.stdout()).containsPattern("journal: .*, commands: \\d+ records?, \\d+ dirty regions?; \\d+ of 64"
                + " writes waited for a sync");
        Parityd.Result json = new Admin(Arrays.adminSocket(log)).run("status", "--json");
        assertThat(json.stdout()).containsPattern("\"mode\" ?: ?\"commands\"").containsPattern("\"writes\" ?: ?64\\b");
        String scrape = FailoverSoakIT.scrape(port);
        assertThat(scrape).contains("parityd_journal_mode{mode=\"commands\"} 1.0")
                .contains("parityd_journal_mode{mode=\"data\"} 0.0")
                .containsPattern("(?m)^parityd_journal_writes_total 64\\.0$")
                .containsPattern("(?m)^parityd_journal_marks \\d")
                .containsPattern("(?m)^parityd_journal_writes_waited_total \\d");
        assertThat(Parityd.run("examine", members.get(1).toString()).stdout())
                .containsPattern("journal: +[0-9a-f-]{36}, commands \\(replayed at the next start if dirty\\)");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;
        assertThat(Parityd.run("examine", members.get(1).toString()).stdout()).contains("journal:    none named");

        Path dataLog = dir.resolve("data.log");
        daemon = Arrays.serve(dataLog, members, "--journal", "data", "--metrics", "127.0.0.1:" + port);
        assertThat(daemon.log()).contains("journals write data");
        assertThat(new Admin(Arrays.adminSocket(dataLog)).run("status").stdout()).contains(", data: ");
        assertThat(FailoverSoakIT.scrape(port)).contains("parityd_journal_mode{mode=\"data\"} 1.0");
        assertThat(Parityd.run("examine", members.get(3).toString()).stdout()).containsPattern("journal: +[0-9a-f-]{36}, data \\(");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;

        Parityd.Result refused = Parityd.run("serve", "--journal", "bitmap", members.get(0).toString());
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.all()).contains("--journal 'bitmap' is not a journal mode: use commands (the default), data"
                + " or off");
        Arrays.assertParityClean(members);
    }
}
