package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Three real processes of HA mode for tests: controllers "a" and "b" on fixed loopback ports
 * (so a restarted one is found where it was), and a front. Everything it started is killed by
 * PID in {@link #close()}, whatever happened.
 */
final class HaCluster implements AutoCloseable {

    private static final Pattern CONTROLLER_READY = Pattern.compile("controller \\S+ of array '[^']*' .* listening on");
    private static final Pattern PRIMARY = Pattern.compile("front: controller (\\S+) is (?:PRIMARY|primary) at epoch (\\d+)");
    private static final Pattern STANDBY = Pattern.compile("front: controller (\\S+) is STANDBY, in sync at epoch (\\d+)");

    private final Path dir;
    private final List<Path> members;
    private final Path secret;
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    /** Where the front dials each controller: its own port unless a test puts a proxy in between. */
    private final Map<String, Integer> frontDials = new LinkedHashMap<>();
    private final Map<String, DaemonProcess> controllers = new LinkedHashMap<>();
    private final Map<String, Integer> starts = new LinkedHashMap<>();
    private final List<String> frontExtra;
    /** Options every controller start gets (e.g. --link-tls-certificates). */
    private final List<String> controllerExtra = new ArrayList<>();
    private DaemonProcess front;
    private int frontStarts;

    HaCluster(Path dir, List<Path> members, String... frontExtra) throws IOException {
        this.dir = dir;
        this.members = members;
        this.frontExtra = List.of(frontExtra);
        this.secret = dir.resolve("secret");
        Files.writeString(secret, "a shared secret for the test pair, long enough\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        ports.put("a", freePort());
        ports.put("b", freePort());
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /** The front will dial controller {@code id} at {@code port} (a proxy) instead of its own port. */
    void frontDials(String id, int port) {
        frontDials.put(id, port);
    }

    /** Every controller log of {@code id} so far, oldest first. */
    String controllerLogs(String id) throws IOException {
        StringBuilder all = new StringBuilder();
        for (int i = 1; i <= starts.getOrDefault(id, 0); i++) {
            all.append(Files.readString(dir.resolve(id + "-" + i + ".log")));
        }
        return all.toString();
    }

    Path secret() {
        return secret;
    }

    int port(String id) {
        return ports.get(id);
    }

    /**
     * Every process of the pair runs with Netty's leak detector at its most thorough, and its log
     * is searched for what that and buffer misuse print ({@link #assertNoBufferErrors}).
     */
    private static final DaemonProcess.Launch CHECKED = new DaemonProcess.Launch(
            Map.of("PARITYD_JAVA_OPTS", "-Dio.netty.leakDetection.level=paranoid"), false);
    /** What a leak, a reference-count error or a buffer handed between threads unsafely leaves in a log. */
    private static final Pattern BUFFER_ERROR = Pattern.compile(
            "LEAK:|IllegalReferenceCountException|ConcurrentModificationException");

    /** Starts controller {@code id} (again), with the same journal and port as before. */
    DaemonProcess startController(String id, String... extra) throws IOException, InterruptedException {
        return startController(id, CHECKED, extra);
    }

    /**
     * Starts controller {@code id} as the child of a shell that never reaps it: killed, it stays
     * a zombie (as under a supervisor that is slow to wait for its children).
     */
    DaemonProcess startControllerUnreaped(String id, String... extra) throws IOException, InterruptedException {
        return startController(id, new DaemonProcess.Launch(CHECKED.environment(), true), extra);
    }

    private DaemonProcess startController(String id, DaemonProcess.Launch launch, String... extra)
            throws IOException, InterruptedException {
        int n = starts.merge(id, 1, Integer::sum);
        List<String> args = new ArrayList<>(List.of("controller", "--id", id, "--listen", "127.0.0.1:" + ports.get(id),
                "--nvram", dir.resolve(id + ".nvram").toString(), "--secret-file", secret.toString(),
                "--admin-socket", adminSocket(id).toString()));
        args.addAll(controllerExtra);
        args.addAll(List.of(extra));
        args.addAll(Arrays.paths(members));
        if (id.equals("b")) {
            // b always reads its options from a file, as the systemd unit does (parityd controller @FILE).
            Path conf = dir.resolve("controller-b.conf");
            Files.writeString(conf, "# written by HaCluster\n" + String.join("\n", args.subList(1, args.size())) + "\n");
            args = new ArrayList<>(List.of("controller", "@" + conf));
        }
        DaemonProcess p = DaemonProcess.start(dir.resolve(id + "-" + n + ".log"), CONTROLLER_READY, launch,
                args.toArray(String[]::new));
        controllers.put(id, p);
        return p;
    }

    DaemonProcess startFront() throws IOException, InterruptedException {
        frontStarts++;
        List<String> args = new ArrayList<>(List.of("front", "--listen", "127.0.0.1:0",
                "--controller", "a=127.0.0.1:" + frontDials.getOrDefault("a", ports.get("a")),
                "--controller", "b=127.0.0.1:" + frontDials.getOrDefault("b", ports.get("b")),
                "--secret-file", secret.toString(), "--admin-socket", adminSocket("front").toString()));
        args.addAll(frontExtra);
        front = DaemonProcess.start(dir.resolve("front-" + frontStarts + ".log"), DaemonProcess.SERVING, CHECKED,
                args.toArray(String[]::new));
        return front;
    }

    /** From now on every controller starts with {@code options} too. */
    void controllersGet(String... options) {
        controllerExtra.addAll(List.of(options));
    }

    /** The admin socket of controller {@code id}, or of the front ("front"). */
    Path adminSocket(String who) {
        return dir.resolve(who + ".sock");
    }

    DaemonProcess front() {
        return front;
    }

    DaemonProcess controller(String id) {
        return controllers.get(id);
    }

    /** Every front log so far, oldest first. */
    String frontLogs() throws IOException {
        StringBuilder all = new StringBuilder();
        for (int i = 1; i <= frontStarts; i++) {
            all.append(Files.readString(dir.resolve("front-" + i + ".log")));
        }
        return all.toString();
    }

    /** What the front logs about its standby, in order; the last one says where the pair stands. */
    private static final Pattern PAIR_EVENT = Pattern.compile("(is STANDBY, in sync|lost standby|goes on without a standby"
            + "|joins primary|while it was joining as standby| is PRIMARY at epoch| is primary at epoch)");

    /**
     * The current primary per the front's log, once the last thing it logged about the pair is a
     * standby coming in sync with that primary (bounded wait).
     */
    String awaitPair(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String log = front.log();
            String primary = last(PRIMARY, log);
            Matcher m = PAIR_EVENT.matcher(log);
            String lastEvent = null;
            while (m.find()) {
                lastEvent = m.group(1);
            }
            if (primary != null && "is STANDBY, in sync".equals(lastEvent)) {
                return primary;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no primary with an in-sync standby within " + timeout + ":\n" + front.log());
    }

    /** The current primary per the front's log (bounded wait for one). */
    String awaitPrimary(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String primary = last(PRIMARY, front.log());
            if (primary != null) {
                return primary;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no primary within " + timeout + ":\n" + front.log());
    }

    /** How many promotions the front's log shows so far. */
    int promotions() throws IOException {
        Matcher m = PRIMARY.matcher(front.log());
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static String last(Pattern p, String log) {
        Matcher m = p.matcher(log);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last;
    }

    static String other(String id) {
        return id.equals("a") ? "b" : "a";
    }

    /** Stops everything it started (by PID), then checks parity offline. */
    void stopAndCheck() throws Exception {
        close();
        Arrays.assertParityClean(members);
    }

    /**
     * Stops everything it started (by PID), then fails if any process of the pair logged a
     * buffer leak, a reference-count error or a concurrent modification (issue 13: every buffer
     * that crosses a thread or a link has one owner).
     */
    @Override
    public void close() throws InterruptedException {
        keepLogs();
        if (front != null) {
            front.close();
        }
        for (DaemonProcess p : controllers.values()) {
            p.close();
        }
        assertNoBufferErrors();
    }

    /** Every log of this pair so far is free of {@link #BUFFER_ERROR}s; the first ones found, if not. */
    void assertNoBufferErrors() {
        List<String> found = new ArrayList<>();
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
                String[] lines = Files.readString(f).split("\n");
                for (int i = 0; i < lines.length && found.size() < 5; i++) {
                    if (BUFFER_ERROR.matcher(lines[i]).find()) {
                        StringBuilder context = new StringBuilder(f.getFileName() + ":" + (i + 1) + ": ");
                        for (int j = i; j < Math.min(lines.length, i + 8); j++) {
                            context.append(lines[j]).append('\n');
                        }
                        found.add(context.toString());
                    }
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertThat(found).as("buffer leaks or misuse in the pair's logs").isEmpty();
    }

    /**
     * With {@code -Dparityd.keepLogs=DIR}, copies every log of this cluster under DIR (a test's
     * own directory is deleted afterwards): for reading what happened in a run that passed.
     */
    private void keepLogs() {
        String to = System.getProperty("parityd.keepLogs");
        if (to == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            Path target = Path.of(to, dir.getFileName().toString());
            Files.createDirectories(target);
            for (Path f : files.filter(f -> f.toString().endsWith(".log")).toList()) {
                Files.copy(f, target.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            System.err.println("could not keep the logs: " + e);
        }
    }

    /** For messages: every log in the directory. */
    String allLogs() throws IOException {
        StringBuilder b = new StringBuilder();
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
                b.append("==== ").append(f.getFileName()).append('\n').append(Files.readString(f));
            }
        }
        assertThat(b).isNotNull();
        return b.toString();
    }
}
