package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs a scenario script ({@code daemon/src/test/guest/*.sh}) in a QEMU guest that boots Debian's
 * kernel, through {@code guest-run.sh}: the kernel's own NBD client, md, ext4 and XFS, which the
 * host's kernel lacks. The guest has no network card; it sees the host's root read-only and its
 * work directory read-write, at the same paths.
 *
 * <p>The scenario leaves what it observed in its work directory ({@code results/facts},
 * metric scrapes, {@code logs/}); the tests assert on those, so a failure names the fact that is
 * wrong and the console log says how far the scenario got. A machine that cannot run the guest
 * (no QEMU, no kernel package) skips the tests with guest-run's message.
 */
final class GuestRig {

    /** guest-run.sh: the guest cannot run here. */
    private static final int CANNOT_RUN = 77;

    private static Path archive;

    private GuestRig() {
    }

    /** What a finished guest left behind. */
    record Run(int exitCode, Path work, String console) {

        Path results() {
            return work.resolve("results");
        }

        Path log(String name) {
            return work.resolve("logs").resolve(name);
        }

        String logText(String name) {
            try {
                return Files.readString(log(name), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new AssertionError("the scenario left no logs/" + name + "; console:\n" + tail(), e);
            }
        }

        String result(String name) {
            try {
                return Files.readString(results().resolve(name), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new AssertionError("the scenario left no results/" + name + "; console:\n" + tail(), e);
            }
        }

        /** results/facts as KEY → VALUE, in the order the scenario found them. */
        Map<String, String> facts() {
            Map<String, String> facts = new LinkedHashMap<>();
            Path file = results().resolve("facts");
            if (Files.exists(file)) {
                try {
                    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                        int eq = line.indexOf('=');
                        if (eq > 0) {
                            facts.put(line.substring(0, eq), line.substring(eq + 1));
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return facts;
        }

        /** One fact; fails, with the console's end, if the scenario never got to record it. */
        String fact(String key) {
            String value = facts().get(key);
            if (value == null) {
                throw new AssertionError("the scenario did not record '" + key + "' (guest exit status " + exitCode
                        + "); console:\n" + tail());
            }
            return value;
        }

        String tail() {
            List<String> lines = console.lines().toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        }
    }

    /**
     * Boots a guest that runs {@code daemon/src/test/guest/SCENARIO} in a fresh work directory
     * {@code daemon/target/guest/NAME}, and waits for it (at most {@code timeout}).
     */
    static Run run(String scenario, String name, int memoryMiB, Duration timeout) throws IOException, InterruptedException {
        return run(scenario, name, memoryMiB, timeout, "");
    }

    /** As {@link #run(String, String, int, Duration)}, with more shell assignments for the scenario's env.sh. */
    static Run run(String scenario, String name, int memoryMiB, Duration timeout, String env)
            throws IOException, InterruptedException {
        Path guestDir = Parityd.home().resolve("daemon/src/test/guest");
        Path work = Parityd.home().resolve("daemon/target/guest").resolve(name);
        deleteTree(work);
        Files.createDirectories(work);
        Path cds = archive();
        Files.writeString(work.resolve("env.sh"), "REPO=" + Parityd.home() + "\n"
                + (cds == null ? "" : "CDS_ARCHIVE=" + cds + "\n") + env, StandardCharsets.UTF_8);
        Path console = work.resolve("console.log");
        Process guest = new ProcessBuilder(guestDir.resolve("guest-run.sh").toString(), "--mem", String.valueOf(memoryMiB),
                "--timeout", String.valueOf(timeout.toSeconds()),
                // The checkout (scripts, bin/parityd, the jar, the class-data archive) may lie under
                // /tmp, which is the guest's own tmpfs: share it explicitly.
                "--share", Parityd.home().toString(),
                work.toString(), guestDir.resolve(scenario).toString())
                .redirectErrorStream(true).redirectOutput(console.toFile()).start();
        if (!guest.waitFor(timeout.toSeconds() + 60, TimeUnit.SECONDS)) {
            guest.destroyForcibly().waitFor(); // guest-run.sh, by its PID; its own timeout had already failed
            throw new AssertionError("guest-run.sh did not end within " + timeout + " + 60 s");
        }
        String text = Files.readString(console, StandardCharsets.UTF_8).replaceAll("\u001b\\[[0-9;?]*[a-zA-Z]|\u001bc", "");
        if (guest.exitValue() == CANNOT_RUN) {
            abort("the guest kernel cannot run on this machine: " + text.strip());
        }
        return new Run(guest.exitValue(), work, text);
    }

    /**
     * A class-data archive of parityd, made on the host once per test run (cds-archive.sh): it
     * halves each JVM start in the guest. Null, with a warning, if it cannot be made; the
     * guest is only slower then.
     */
    private static synchronized Path archive() throws IOException, InterruptedException {
        if (archive == null) {
            Path file = Parityd.home().resolve("daemon/target/guest/parityd.jsa");
            Files.createDirectories(file.getParent());
            Files.deleteIfExists(file);
            Parityd.Result r = Parityd.exec(List.of(Parityd.home().resolve("daemon/src/test/guest/cds-archive.sh").toString(),
                    file.toString()), Duration.ofMinutes(3));
            if (r.exitCode() != 0) {
                System.err.println("GuestRig: no class-data archive, guest JVMs start slower: " + r.all());
                return null;
            }
            archive = file;
        }
        return archive;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted((a, b) -> b.compareTo(a)).toList()) {
                Files.delete(p);
            }
        }
    }

    /** The value of one series in a Prometheus text scrape, e.g. {@code parityd_nbd_connections}. */
    static double series(String scrape, String series) {
        for (String line : scrape.lines().toList()) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no series " + series + " in the scrape");
    }

    /** The sum of every series of a metric family (any labels), e.g. all request errors. */
    static double sum(String scrape, String family) {
        double total = 0;
        for (String line : scrape.lines().toList()) {
            if (line.startsWith(family + "{") || line.startsWith(family + " ")) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    static void assertRan(Run run) {
        assertThat(run.exitCode()).as("the guest scenario's exit status; console:\n%s", run.tail()).isZero();
    }
}
