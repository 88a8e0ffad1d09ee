package io.parityd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.parityd.admin.AdminAccess;
import io.parityd.admin.AdminPaths;
import io.parityd.admin.AdminServer;
import io.parityd.admin.ArrayStatus;
import io.parityd.admin.RecordingArrayControl;
import io.parityd.admin.StatusJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code status}, {@code fail}, {@code replace}, {@code add-spare} and {@code scrub} run in-process
 * against a real {@link AdminServer} serving {@link RecordingArrayControl}, whose tasks advance
 * one step per status call, so waiting commands see progress and an end without any clock.
 */
class AdminCommandsTest {

    private static final Pattern TASK_WORDS = Pattern.compile("(?i)rebuild|resync|recover");

    @TempDir
    Path dir;

    private Path run;
    private RecordingArrayControl control;
    private AdminServer server;
    private AdminSettings settings;

    record Run(int status, String out, String err) {
    }

    @BeforeEach
    void start() throws Exception {
        run = dir.resolve("run");
        control = new RecordingArrayControl(dir);
        server = AdminServer.start(run.resolve("vol0.sock"), control);
        settings = new AdminSettings(AdminPaths.in(run), Duration.ofMillis(1), null);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private Run run(String... args) {
        return run(settings, args);
    }

    private static Run run(AdminSettings settings, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine(settings);
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int status = cli.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    private String p(String name) {
        return dir.resolve(name).toString();
    }

    @Test
    void shouldShowTheArrayLikeMdadmDetail() {
        control.markFaulty(2, "read error at 1 MiB");
        Run r = run("status");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("vol0: RAID-5, 1.3 MiB, degraded\n")
                .contains("        uuid: " + RecordingArrayControl.ID + "\n")
                .contains("      export: nbd://127.0.0.1:10809/vol0\n")
                .contains("       chunk: 64 KiB\n")
                .contains("     members: 3 slots: 2 active, 1 faulty; no spares\n")
                .contains("     0  active      " + p("m0") + "\n")
                .contains("     2  faulty      " + p("m2") + "  (read error at 1 MiB)\n")
                .contains("  slot 2 is faulty: replace it with 'parityd replace 2 NEW-MEMBER'");
        assertThat(TASK_WORDS.matcher(r.out()).find()).as("no task runs:\n%s", r.out()).isFalse();
    }

    @Test
    void shouldNameRebuildOnlyWhileOneRuns() {
        Run started = run("replace", "--no-wait", "1", p("new"));
        assertThat(started.status()).as(started.err()).isZero();
        assertThat(started.out()).isEqualTo("rebuild of 1 onto " + p("new") + " started; follow it with 'parityd status'\n");

        Run running = run("status");
        assertThat(running.out()).startsWith("vol0: RAID-5, 1.3 MiB, degraded, rebuilding\n")
                .contains("     1  rebuilding  " + p("new") + "\n")
                .contains("  rebuild onto " + p("new") + ": 40.0% (4 of 10 stripes), 12.5 MiB/s, 0:00:12 left\n");
        assertThat(run("status").out()).contains("80.0% (8 of 10 stripes)");

        Run done = run("status");
        assertThat(done.out()).startsWith("vol0: RAID-5, 1.3 MiB, clean\n").contains("     1  active      " + p("new") + "\n");
        assertThat(TASK_WORDS.matcher(done.out()).find()).as("the rebuild has ended:\n%s", done.out()).isFalse();
    }

    @Test
    void shouldNotNameRebuildWhileACheckRuns() {
        assertThat(run("scrub", "--no-wait").out()).isEqualTo("check of 'vol0' started; follow it with 'parityd status'\n");
        Run r = run("status");
        assertThat(r.out()).contains("clean, checking").contains("check of vol0: 40.0% (4 of 10 stripes)")
                .contains("0 parity mismatches so far");
        assertThat(TASK_WORDS.matcher(r.out()).find()).as(r.out()).isFalse();
    }

    @Test
    void shouldPrintJsonThatReadsBack() throws Exception {
        control.addSpare(dir.resolve("s0"));
        control.scrub(false);
        Run r = run("status", "--json");
        assertThat(r.status()).as(r.err()).isZero();
        ArrayStatus parsed = StatusJson.fromJson(new ObjectMapper().readTree(r.out()));
        assertThat(parsed.name()).isEqualTo("vol0");
        assertThat(parsed.uuid()).isEqualTo(RecordingArrayControl.ID);
        assertThat(parsed.spares()).containsExactly(p("s0"));
        assertThat(parsed.members()).hasSize(3);
        assertThat(parsed.tasks()).singleElement().satisfies(t -> assertThat(t.kind()).isEqualTo("check"))
                .satisfies(t -> assertThat(t.done()).isEqualTo(4)).satisfies(t -> assertThat(t.etaSeconds()).isEqualTo(12));
        assertThat(r.out()).contains("\"bytesPerSecond\" : 1.31072E7").doesNotContain("slot 2");
    }

    @Test
    void shouldFailAMemberBySlotOrPath() {
        Run bySlot = run("fail", "1");
        assertThat(bySlot.status()).as(bySlot.err()).isZero();
        assertThat(bySlot.out()).isEqualTo("slot 1 (" + p("m1") + ") of 'vol0' is now faulty; the array is degraded\n"
                + "give it a new device with: parityd replace 1 NEW-MEMBER\n");
        Run byPath = run("fail", p("m2"));
        assertThat(byPath.out()).contains("slot 2 (" + p("m2") + ") of 'vol0' is now faulty; the array is failed");
        assertThat(control.calls()).contains("fail 1", "fail " + p("m2"));
        Run forced = run("fail", "--force", "0");
        assertThat(forced.status()).as(forced.err()).isZero();
        assertThat(control.calls()).as("--force reaches the array").contains("fail 0 --force");
    }

    @Test
    void shouldSendARelativeMemberAsAnAbsolutePath() {
        Run r = run("fail", "m0");
        String absolute = Path.of("m0").toAbsolutePath().toString();
        assertThat(control.calls()).contains("fail " + absolute);
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).isEqualTo("parityd fail: '" + absolute + "' is not a member of array 'vol0'; "
                + "give a slot number or a member path as parityd status lists them\n");
    }

    @Test
    void shouldReplaceAndWaitForTheRebuild() {
        Run r = run("replace", "1", p("new"));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).as("no bar when not on a terminal: only the final line")
                .isEqualTo("rebuilt slot 1 of 'vol0' onto " + p("new") + "; the array is clean\n");
        assertThat(control.calls()).containsSubsequence("replace 1 " + p("new"), "status", "status", "status");
    }

    @Test
    void shouldExitOneWhenTheRebuildStops() {
        control.rebuildFailsAt = 8;
        Run r = run("replace", p("m1"), p("new"));
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).isEqualTo("parityd replace: the rebuild onto " + p("new") + " stopped: slot 1 is faulty (write error on "
                + p("new") + ") and the array is degraded; replace it with another device: parityd replace 1 NEW-MEMBER\n");
    }

    @Test
    void shouldDrawAProgressBarOnATerminal() {
        ByteArrayOutputStream terminal = new ByteArrayOutputStream();
        control.step = 1;
        AdminSettings onTerminal = new AdminSettings(settings.paths(), Duration.ofMillis(1), new PrintStream(terminal, true, StandardCharsets.UTF_8));
        Run r = run(onTerminal, "replace", "1", p("new"));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("rebuilt slot 1 of 'vol0' onto " + p("new") + "; the array is clean\n");
        assertThat(terminal.toString(StandardCharsets.UTF_8)).contains("rebuild  90% [").contains("/ 0:00:02)").contains("9/10 stripes")
                .contains("12.5 MiB/s");
    }

    @Test
    void shouldReAddAFormerMemberAndWaitForItsRebuild() {
        Run r = run("re-add", p("m2"));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("rebuilt slot 2 of 'vol0' onto " + p("m2") + "; the array is clean\n");
        assertThat(control.calls()).containsSubsequence("re-add " + p("m2"), "status");
        Run noWait = run("re-add", "--no-wait", p("m1"));
        assertThat(noWait.out()).isEqualTo("re-add of " + p("m1") + " started; follow it with 'parityd status'\n");
    }

    @Test
    void shouldAddASpare() {
        Run r = run("add-spare", p("s0"));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("added " + p("s0") + " as a hot spare of 'vol0' (1 spare)\n");
        assertThat(control.calls()).contains("add-spare " + p("s0"));
        Run again = run("add-spare", p("s0"));
        assertThat(again.status()).isEqualTo(Main.FAILED);
        assertThat(again.err()).isEqualTo("parityd add-spare: " + p("s0") + " is already in array 'vol0'; give a new device\n");
    }

    @Test
    void shouldScrubAndExitOneWhileMismatchesRemain() {
        control.mismatches = 3;
        Run check = run("scrub");
        assertThat(check.status()).isEqualTo(Main.FAILED);
        assertThat(check.out()).isEqualTo("checked 10 stripes of 'vol0': 3 parity mismatches\n"
                + "run 'parityd scrub --repair' to rewrite the wrong parity\n");
        assertThat(run("status").out()).containsPattern("  last check: 10 of 10 stripes, 3 parity mismatches, ended \\S+Z\n")
                .contains("  parity is wrong on some stripes: rewrite it with 'parityd scrub --repair'\n");
        Run repair = run("scrub", "--repair");
        assertThat(repair.status()).as(repair.err()).isZero();
        assertThat(repair.out()).isEqualTo("checked 10 stripes of 'vol0': 3 parity mismatches, 3 repaired\n");
        assertThat(run("status").out()).contains("  last repair: 10 of 10 stripes, 3 parity mismatches, 3 repaired, ended ")
                .doesNotContain("parity is wrong");
        assertThat(control.calls()).contains("scrub repair=false", "scrub repair=true");
    }

    @Test
    void shouldScrubACleanArrayWithExitZero() {
        Run r = run("scrub");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("checked 10 stripes of 'vol0': 0 parity mismatches\n");
    }

    @Test
    void shouldFailWhenTheScrubStopsEarly() {
        control.mismatches = 1;
        control.scrubStopsAt = 8;
        Run r = run("scrub", "--repair");
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).isEqualTo("parityd scrub: the repair of 'vol0' stopped after 8 of 10 stripes, with 1 parity mismatch "
                + "found; see 'parityd status' and the daemon log\n");
    }

    @Test
    void shouldFailWhenTheDaemonReportsNoScrubResult() {
        control.reportsScrubs = false;
        Run r = run("scrub");
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).isEqualTo("parityd scrub: the check of 'vol0' is not running any more and the daemon reports no "
                + "result for it; see 'parityd status' and the daemon log\n");
    }

    @Test
    void shouldPassOnTheArraysRefusal() {
        assertThat(run("scrub", "--no-wait").status()).isZero();
        Run r = run("replace", "1", p("new"));
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).isEqualTo("parityd replace: a check is running; wait for it to finish (parityd status)\n");
    }

    @Test
    void shouldAskForANameWhenSeveralArraysAreServed() throws Exception {
        RecordingArrayControl second = new RecordingArrayControl(dir);
        try (AdminServer other = AdminServer.start(run.resolve("vol1.sock"), second)) {
            Run r = run("status");
            assertThat(r.status()).isEqualTo(Main.FAILED);
            assertThat(r.err()).isEqualTo("parityd status: several arrays are served here (vol0, vol1); say which with --name NAME\n");
            assertThat(run("status", "--name", "vol1").status()).isZero();
            assertThat(second.calls()).containsExactly("status");
            assertThat(run("fail", "--admin-socket", other.socket().toString(), "2").status()).isZero();
            assertThat(second.calls()).contains("fail 2");
        }
        assertThat(control.calls()).isEmpty();
    }

    @Test
    void shouldSayNoArrayIsServedWhenThereIsNoSocket() {
        AdminSettings empty = new AdminSettings(AdminPaths.in(dir.resolve("nothing")), Duration.ofMillis(1), null);
        Run r = run(empty, "status");
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).isEqualTo("parityd status: no parityd serves an array here: no admin socket in " + dir.resolve("nothing")
                + "; is an array being served? (parityd serve), or name its socket with --admin-socket PATH\n");

        Run named = run("status", "--name", "vol9");
        Path socket = run.resolve("vol9.sock");
        assertThat(named.status()).isEqualTo(Main.FAILED);
        assertThat(named.err()).isEqualTo("parityd status: no parityd serves 'vol9' here: " + socket + " does not exist; "
                + "is the array being served? (parityd serve … --admin-socket " + socket + ")\n");
    }

    @Test
    void shouldSayTheDaemonIsGoneWhenTheSocketIsStale() throws Exception {
        Path stale = dir.resolve("stale.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(stale));
        }
        Run r = run("scrub", "--admin-socket", stale.toString());
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).startsWith("parityd scrub: no parityd answers on " + stale + " (connection refused)");
    }

    @Test
    void shouldPassOnTheDaemonsRefusalOfTheCaller() throws Exception {
        Path socket = dir.resolve("guarded/vol0.sock");
        try (AdminServer guarded = AdminServer.start(socket, new RecordingArrayControl(dir), AdminAccess.onlyUids(4242))) {
            Run r = run("status", "--admin-socket", socket.toString());
            assertThat(r.status()).isEqualTo(Main.FAILED);
            assertThat(r.err()).isEqualTo("parityd status: only uid [4242] may use " + socket + "; you are uid "
                    + AdminAccess.currentUid() + "; run the command as that user or with sudo\n");
        }
    }

    @Test
    void shouldTreatABadCommandLineAsAUsageError() {
        Run badName = run("status", "--name", "../etc");
        assertThat(badName.status()).isEqualTo(2);
        assertThat(badName.err()).contains("--name '../etc' is not an array name");
        Run both = run("status", "--name", "vol0", "--admin-socket", p("x.sock"));
        assertThat(both.status()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");
        assertThat(run("replace", "1").status()).isEqualTo(2);
        assertThat(run("fail").status()).isEqualTo(2);
        assertThat(control.calls()).isEmpty();
    }

    @Test
    void shouldExplainEachCommandInItsHelp() {
        for (String command : new String[] {"status", "fail", "replace", "re-add", "add-spare", "scrub"}) {
            Run r = run(command, "--help");
            assertThat(r.status()).as(command).isZero();
            assertThat(r.out()).as(command).contains("--admin-socket=PATH").contains("--name=NAME").contains("Usage: parityd " + command);
        }
        assertThat(run("status", "--help").out()).contains("--json").contains("lastScrub");
        assertThat(run("replace", "--help").out()).contains("--no-wait").contains("Exit status 0 when the rebuild completed");
        assertThat(run("scrub", "--help").out()).contains("--repair").contains("--no-wait");
    }

    @Test
    void shouldLeaveNoSocketBehindOnceStopped() throws Exception {
        server.close();
        assertThat(Files.list(run)).isEmpty();
        Run r = run("status");
        assertThat(r.err()).contains("no admin socket in " + run);
    }
}
