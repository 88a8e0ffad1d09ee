package io.parityd.front;

import io.parityd.link.Hello;
import io.parityd.replication.Links;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure a controller the front gave up on writes nothing more, before the other one is
 * promoted (DESIGN.md "Failover and fencing": never promote without a successful fence).
 *
 * <ul>
 *   <li>On this host (its Hello carried this host's boot id): SIGKILL to its pid, then wait until
 *       the process is gone. Its member locks go with it, which is what lets the new primary
 *       assemble the array; a paused (SIGSTOP) process dies of SIGKILL too. The pid is checked to
 *       still be a parityd controller with that id, so a recycled pid is never killed.</li>
 *   <li>Elsewhere: the operator's {@code --fence-command}, run with the controller's id, pid and
 *       address in the environment ({@code PARITYD_FENCE_ID}, {@code PARITYD_FENCE_PID},
 *       {@code PARITYD_FENCE_ADDRESS}); exit status 0 means fenced (a Pacemaker fence agent, an
 *       IPMI power-off, a storage-side reservation...). Without one, fencing fails and the front
 *       waits rather than risk two writers.</li>
 * </ul>
 */
public final class Fencer {

    private static final Logger log = LoggerFactory.getLogger(Fencer.class);

    private final String bootId = Links.bootId();
    private final List<String> command;
    private final Duration timeout;

    /** @param command the fence command and its arguments, or empty for none */
    public Fencer(List<String> command, Duration timeout) {
        this.command = List.copyOf(command);
        this.timeout = timeout;
    }

    /** Fences the controller that said {@code hello}; returns why not, or empty on success. Blocking. */
    public Optional<String> fence(Hello hello) {
        return fence(hello, Duration.ZERO);
    }

    /**
     * As {@link #fence(Hello)}, but a controller on this host first gets {@code grace} to exit by
     * itself: one whose link just closed is usually a process on its way out (a clean stop closes
     * its links last), and killing it then only spoils its exit status. One silent past its lease
     * gets no grace: it had the lease.
     */
    public Optional<String> fence(Hello hello, Duration grace) {
        try {
            if (!bootId.isEmpty() && bootId.equals(hello.bootId())) {
                if (!grace.isZero()) {
                    awaitDeath(hello.pid(), grace); // still running after it: killed below
                }
                return killLocal(hello);
            }
            if (command.isEmpty()) {
                return Optional.of("controller " + hello.nodeId() + " runs on another host (" + hello.address()
                        + ") and no --fence-command is configured: the front will not promote the other controller"
                        + " while this one may still write");
            }
            return runCommand(hello);
        } catch (IOException e) {
            return Optional.of("fencing controller " + hello.nodeId() + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while fencing controller " + hello.nodeId());
        }
    }

    private Optional<String> killLocal(Hello hello) throws InterruptedException {
        Optional<ProcessHandle> process = ProcessHandle.of(hello.pid());
        if (process.isEmpty() || !running(hello.pid())) {
            log.info("fence: controller {} (pid {}) is already gone", hello.nodeId(), hello.pid());
            return Optional.empty();
        }
        if (!isController(hello)) {
            log.info("fence: pid {} is no longer controller {} (it exited; the pid was reused)", hello.pid(),
                    hello.nodeId());
            return Optional.empty();
        }
        log.warn("fence: killing controller {} (pid {}) with SIGKILL", hello.nodeId(), hello.pid());
        process.get().destroyForcibly();
        if (!awaitDeath(hello.pid(), timeout)) {
            return Optional.of("controller " + hello.nodeId() + " (pid " + hello.pid() + ") is still alive "
                    + timeout.toMillis() + " ms after SIGKILL");
        }
        return Optional.empty();
    }

    /** How often a dying process is looked at: a failover waits on this, so it is short. */
    private static final long POLL_MILLIS = 5;

    /** Waits at most {@code limit} for {@code pid} to stop {@link #running}; whether it did. */
    private static boolean awaitDeath(long pid, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (running(pid)) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
        }
        return true;
    }

    /**
     * Whether {@code pid} still runs code. A zombie (state Z, or X while it is being reaped) does
     * not: it has exited, its files are closed and its member locks released, and it waits only
     * for its parent to read its status, which a parent other than systemd may not do for a long
     * time. Java's {@link ProcessHandle#isAlive} counts a zombie as alive, which made a fence by
     * SIGKILL wait out its whole timeout and fail. The state is the field after the command name
     * in {@code /proc/PID/stat}; the name is in parentheses and may itself hold any byte, so it is
     * found after the last ')'.
     */
    static boolean running(long pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
        } catch (IOException gone) {
            return false;
        }
        int close = stat.lastIndexOf(')');
        if (close < 0 || close + 2 >= stat.length()) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
        char state = stat.charAt(close + 2);
        return state != 'Z' && state != 'X' && state != 'x';
    }

    /** The process at the pid still runs a parityd controller with that id (its command line says). */
    private static boolean isController(Hello hello) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(hello.pid()), "cmdline"));
            List<String> args = new ArrayList<>(List.of(new String(raw, StandardCharsets.UTF_8).split("\0")));
            int at = args.indexOf("--id");
            boolean otherId = (at >= 0 && at + 1 < args.size() && !args.get(at + 1).equals(hello.nodeId()))
                    || args.stream().anyMatch(a -> a.startsWith("--id=") && !a.equals("--id=" + hello.nodeId()));
            // Options may come from an @file, so a missing --id proves nothing; a different one does.
            return args.contains("controller") && !otherId;
        } catch (IOException e) {
            return false; // gone meanwhile
        }
    }

    private Optional<String> runCommand(Hello hello) throws IOException, InterruptedException {
        // Its output goes to a file, read once it has finished: reading a pipe could wait past the
        // timeout for a command that hangs with its stdout open.
        Path output = Files.createTempFile("parityd-fence", ".out");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            pb.environment().put("PARITYD_FENCE_ID", hello.nodeId());
            pb.environment().put("PARITYD_FENCE_PID", Long.toString(hello.pid()));
            pb.environment().put("PARITYD_FENCE_ADDRESS", hello.address());
            log.warn("fence: running {} for controller {} at {}", command, hello.nodeId(), hello.address());
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return Optional.of("fence command " + command + " did not finish within " + timeout.toMillis() + " ms");
            }
            return judge(p.exitValue(), new String(readAtMost(output, 4096), StandardCharsets.UTF_8).trim(), hello);
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static byte[] readAtMost(Path file, int bytes) throws IOException {
        try (var in = Files.newInputStream(file)) {
            return in.readNBytes(bytes);
        }
    }

    private Optional<String> judge(int status, String said, Hello hello) {
        if (status != 0) {
            return Optional.of("fence command " + command + " failed with status " + status
                    + (said.isEmpty() ? "" : ": " + said));
        }
        log.warn("fence: controller {} fenced by {}{}", hello.nodeId(), command, said.isEmpty() ? "" : ": " + said);
        return Optional.empty();
    }
}
