package io.parityd.front;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.link.Hello;
import io.parityd.link.NodeKind;
import io.parityd.replication.Links;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fencing, with real processes this test starts: a controller on this host dies of SIGKILL (a
 * process that is already gone, or whose pid now runs something else, counts as fenced and is
 * left alone); elsewhere the fence command decides, by its exit status, within its timeout.
 */
class FencerTest {

    @TempDir
    Path dir;

    private Process started;

    @AfterEach
    void stop() throws InterruptedException {
        if (started != null && started.isAlive()) {
            started.destroyForcibly().waitFor();
        }
    }

    private static Hello hello(String id, String bootId, long pid) {
        return Hello.create(NodeKind.CONTROLLER, id, UUID.randomUUID(), bootId, pid, 4, 3, 3, 0, "10.0.0.2:10810");
    }

    @Test
    void shouldKillAControllerOnThisHostAndWaitUntilItIsGone() throws Exception {
        // A stand-in whose command line reads like a controller's (argv[0] "controller").
        started = new ProcessBuilder("bash", "-c", "exec -a controller sleep 300").start();
        Path cmdline = Path.of("/proc", Long.toString(started.pid()), "cmdline");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.readString(cmdline).startsWith("controller") && System.nanoTime() < deadline) {
            Thread.sleep(10); // until bash has become the stand-in
        }
        Optional<String> failed = new Fencer(List.of(), Duration.ofSeconds(5)).fence(hello("a", Links.bootId(),
                started.pid()));
        assertThat(failed).isEmpty();
        assertThat(started.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(started.exitValue()).as("killed by SIGKILL").isEqualTo(137);
    }

    /**
     * Issue 13, defect 3: a controller whose parent does not reap it at once (a shell script, a
     * supervisor that is busy) stays a zombie after SIGKILL. A zombie writes nothing and holds no
     * lock: it is fenced, and the front must not wait out the fence timeout for it.
     */
    @Test
    void shouldCountAKilledControllerAsFencedWhileItsParentHasNotReapedIt() throws Exception {
        // The parent execs into sleep and never waits for its child: the child stays a zombie once killed.
        started = new ProcessBuilder("bash", "-c", "(exec -a controller sleep 300) & echo $!; exec sleep 300").start();
        long child = Long.parseLong(new java.io.BufferedReader(new java.io.InputStreamReader(started.getInputStream()))
                .readLine().trim());
        Path cmdline = Path.of("/proc", Long.toString(child), "cmdline");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.readString(cmdline).startsWith("controller") && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        long began = System.nanoTime();
        Optional<String> failed = new Fencer(List.of(), Duration.ofSeconds(3)).fence(hello("a", Links.bootId(), child));
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
        assertThat(failed).as("a zombie is fenced").isEmpty();
        assertThat(Files.readString(Path.of("/proc", Long.toString(child), "stat"))).as("still unreaped")
                .containsPattern("\\) Z ");
        assertThat(tookMillis).as("ms to fence a process that became a zombie").isLessThan(1000);
        // A grace period for a link that closed ends as soon as the process is a zombie, too.
        began = System.nanoTime();
        assertThat(new Fencer(List.of(), Duration.ofSeconds(3)).fence(hello("a", Links.bootId(), child),
                Duration.ofSeconds(2))).isEmpty();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began)).isLessThan(1000);
    }

    @Test
    void shouldLeaveAloneAPidThatIsNoLongerThatController() throws Exception {
        started = new ProcessBuilder("sleep", "300").start(); // the pid was reused by something else
        Optional<String> failed = new Fencer(List.of(), Duration.ofSeconds(5)).fence(hello("a", Links.bootId(),
                started.pid()));
        assertThat(failed).as("a controller that is gone is fenced").isEmpty();
        assertThat(started.isAlive()).as("the other process lives").isTrue();
    }

    @Test
    void shouldRefuseToFenceAnotherHostWithoutACommand() {
        Optional<String> failed = new Fencer(List.of(), Duration.ofSeconds(5)).fence(hello("b", "another-host", 4242));
        assertThat(failed).get().asString().contains("runs on another host").contains("--fence-command");
    }

    @Test
    void shouldRunTheFenceCommandWithTheControllersIdentityAndTrustItsStatus() throws Exception {
        Path seen = dir.resolve("seen");
        Path ok = script("ok", "echo \"$PARITYD_FENCE_ID $PARITYD_FENCE_PID $PARITYD_FENCE_ADDRESS\" > " + seen + "\nexit 0");
        assertThat(new Fencer(List.of(ok.toString()), Duration.ofSeconds(5)).fence(hello("b", "another-host", 4242)))
                .isEmpty();
        assertThat(Files.readString(seen).trim()).isEqualTo("b 4242 10.0.0.2:10810");

        Path fails = script("fails", "echo power switch unreachable\nexit 7");
        assertThat(new Fencer(List.of(fails.toString()), Duration.ofSeconds(5)).fence(hello("b", "another-host", 4242)))
                .get().asString().contains("failed with status 7").contains("power switch unreachable");

        Path hangs = script("hangs", "exec sleep 30");
        assertThat(new Fencer(List.of(hangs.toString()), Duration.ofMillis(300)).fence(hello("b", "another-host", 4242)))
                .get().asString().contains("did not finish within 300 ms");
    }

    private Path script(String name, String body) throws Exception {
        Path p = dir.resolve(name + ".sh");
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        p.toFile().setExecutable(true);
        return p;
    }
}
