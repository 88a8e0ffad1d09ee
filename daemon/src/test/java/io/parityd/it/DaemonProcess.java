package io.parityd.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parityd daemon started by a test, as its own process, and stopped by that test by PID
 * only. It listens on a port the kernel picks ({@code --listen 127.0.0.1:0}); the URI is read
 * from the daemon's own "serving ... at URI" log line, so the test sees what an operator sees.
 */
final class DaemonProcess implements AutoCloseable {

    private static final Pattern SERVING = Pattern.compile("serving '([^']*)' .* at (nbd(?:\\+unix)?://\\S+)");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Path log;
    private final String uri;
    private final String exportName;

    private DaemonProcess(Process process, Path log, String uri, String exportName) {
        this.process = process;
        this.log = log;
        this.uri = uri;
        this.exportName = exportName;
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
        List<String> command = new ArrayList<>();
        command.add(Parityd.launcher().toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = ready.matcher(Files.readString(logFile, StandardCharsets.UTF_8));
            if (m.find()) {
                return ready == SERVING ? new DaemonProcess(p, logFile, m.group(2), m.group(1))
                        : new DaemonProcess(p, logFile, null, null);
            }
            if (!p.isAlive()) {
                throw new AssertionError("parityd exited with " + p.exitValue() + " before serving:\n" + Files.readString(logFile));
            }
            p.waitFor(50, TimeUnit.MILLISECONDS);
        }
        p.destroyForcibly().waitFor();
        throw new AssertionError("parityd did not start serving within " + START_TIMEOUT + ":\n" + Files.readString(logFile));
    }

    String uri() {
        return uri;
    }

    String exportName() {
        return exportName;
    }

    long pid() {
        return process.pid();
    }

    String log() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** SIGTERM, as systemd stops a unit, and the exit status once it is gone. */
    int terminate(Duration timeout) throws IOException, InterruptedException {
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
        if (process.isAlive()) {
            signal("CONT");
        }
    }

    private void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    /** Waits for the process to end by itself; its exit status, or -1 if it still runs after {@code timeout}. */
    int awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    /** SIGKILL: the process dies at once, mid-whatever. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }
}
