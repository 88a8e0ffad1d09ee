package io.parityd.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parityd daemon started by a test, as its own process, and stopped by that test by PID
 * only. It listens on a port the kernel picks ({@code --listen 127.0.0.1:0}); the URI is read
 * from the daemon's own "serving ... at URI" log line, so the test sees what an operator sees.
 */
final class DaemonProcess implements AutoCloseable {

    static final Pattern SERVING = Pattern.compile("serving '([^']*)' .* at (nbd(?:\\+unix)?://\\S+)");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    /** The daemon's pid: {@code process}'s own, or its child's when started under a parent that does not reap. */
    private final long pid;
    private final Path log;
    private final String uri;
    private final String exportName;

    private DaemonProcess(Process process, long pid, Path log, String uri, String exportName) {
        this.process = process;
        this.pid = pid;
        this.log = log;
        this.uri = uri;
        this.exportName = exportName;
    }

    /** How a test starts a daemon: extra environment, and whether its parent reaps it. */
    record Launch(Map<String, String> environment, boolean parentDoesNotReap) {
        static final Launch PLAIN = new Launch(Map.of(), false);
    }

    /** Starts {@code bin/parityd ARGS} (e.g. {@code serve --listen 127.0.0.1:0 m0 m1 m2}) and waits until it serves. */
    static DaemonProcess start(Path logFile, String... args) throws IOException, InterruptedException {
        return start(logFile, SERVING, args);
    }

    /**
     * Starts {@code bin/parityd ARGS} and waits until its log matches {@code ready}; if that
     * pattern has a group named {@code uri} and one named {@code export}, they are kept.
     */
    static DaemonProcess start(Path logFile, Pattern ready, String... args) throws IOException, InterruptedException {
        return start(logFile, ready, Launch.PLAIN, args);
    }

    /**
     * As {@link #start(Path, Pattern, String...)}, launched as {@code launch} says. Under a parent
     * that does not reap, the daemon is the child of a shell that then execs {@code sleep}: once
     * the daemon dies it stays a zombie, as under a supervisor that is slow to wait for it.
     */
    static DaemonProcess start(Path logFile, Pattern ready, Launch launch, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        Path pidFile = logFile.resolveSibling(logFile.getFileName() + ".pid");
        if (launch.parentDoesNotReap()) {
            Files.deleteIfExists(pidFile);
            command.addAll(List.of("bash", "-c", "\"$@\" & echo $! > " + pidFile + "; exec sleep 100000", "parent"));
        }
        command.add(Parityd.launcher().toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        builder.environment().putAll(launch.environment());
        Process p = builder.start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        long pid = launch.parentDoesNotReap() ? -1 : p.pid();
        while (System.nanoTime() < deadline) {
            if (pid < 0 && Files.exists(pidFile) && !Files.readString(pidFile).isBlank()) {
                pid = Long.parseLong(Files.readString(pidFile).trim());
            }
            Matcher m = ready.matcher(Files.readString(logFile, StandardCharsets.UTF_8));
            if (m.find() && pid > 0) {
                return ready == SERVING ? new DaemonProcess(p, pid, logFile, m.group(2), m.group(1))
                        : new DaemonProcess(p, pid, logFile, null, null);
            }
            if (!p.isAlive() || (pid > 0 && !running(pid))) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("parityd exited before serving:\n" + Files.readString(logFile));
            }
            p.waitFor(50, TimeUnit.MILLISECONDS);
        }
        if (pid > 0 && pid != p.pid()) {
            new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
        }
        p.destroyForcibly().waitFor();
        throw new AssertionError("parityd did not start serving within " + START_TIMEOUT + ":\n" + Files.readString(logFile));
    }

    /** Whether {@code pid} still runs: not gone, not a zombie (see the front's Fencer). */
    static boolean running(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException gone) {
            return false;
        }
    }

    /** Whether this daemon's parent is the test itself (it then reaps it and knows its exit status). */
    private boolean reapedByTest() {
        return pid == process.pid();
    }

    String uri() {
        return uri;
    }

    String exportName() {
        return exportName;
    }

    /** The TCP port of an nbd:// URI (the daemon listened on port 0 and logged the one it got). */
    int port() {
        return java.net.URI.create(uri).getPort();
    }

    long pid() {
        return pid;
    }

    String log() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** SIGTERM, as systemd stops a unit, and the exit status once it is gone. */
    int terminate(Duration timeout) throws IOException, InterruptedException {
        if (!reapedByTest()) {
            throw new UnsupportedOperationException("the exit status of a daemon the test does not reap is unknown");
        }
        process.destroy(); // SIGTERM on Linux
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("parityd did not stop within " + timeout + " of SIGTERM:\n" + log());
        }
        return process.exitValue();
    }

    /** SIGSTOP: the process freezes where it is (its sockets stay open, nothing answers). */
    void pause() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause}; nothing if the process is gone meanwhile (a fence may have killed it). */
    void resume() throws IOException, InterruptedException {
        if (isAlive()) {
            signal("CONT");
        }
    }

    private void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    /** Waits for the process to end by itself; its exit status, or -1 if it still runs after {@code timeout}. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!reapedByTest()) {
            throw new UnsupportedOperationException("the exit status of a daemon the test does not reap is unknown");
        }
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    /** Waits at most {@code timeout} until the daemon no longer runs (a zombie counts as gone); whether it is gone. */
    boolean awaitGone(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (isAlive()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /** SIGKILL: the process dies at once, mid-whatever. */
    void kill() throws InterruptedException, IOException {
        if (reapedByTest()) {
            process.destroyForcibly().waitFor();
            return;
        }
        if (isAlive()) {
            signal("KILL");
        }
        if (!awaitGone(Duration.ofSeconds(10))) {
            throw new AssertionError("pid " + pid + " still runs 10 s after SIGKILL");
        }
    }

    boolean isAlive() {
        return reapedByTest() ? process.isAlive() : running(pid);
    }

    @Override
    public void close() throws InterruptedException {
        if (!reapedByTest() && running(pid)) {
            try {
                signal("KILL");
            } catch (IOException e) {
                // gone meanwhile
            }
        }
        if (process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }
}
