package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real product, {@code bin/parityd} with the shaded jar, as a separate process: what
 * an operator runs is what these tests run.
 */
final class Parityd {

    private Parityd() {
    }

    /** The repository root (failsafe passes it as {@code parityd.home}). */
    static Path home() {
        String home = System.getProperty("parityd.home");
        assertThat(home).as("system property parityd.home (set by failsafe)").isNotNull();
        return Path.of(home).toAbsolutePath().normalize();
    }

    static Path launcher() {
        return home().resolve("bin/parityd");
    }

    /** Output and exit status of a finished command. */
    record Result(int exitCode, String stdout, String stderr) {
        String all() {
            return stdout + stderr;
        }
    }

    /** Runs {@code bin/parityd ARGS} to completion (at most two minutes). */
    static Result run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(launcher().toString());
        command.addAll(List.of(args));
        return exec(command, Duration.ofMinutes(2));
    }

    /** Runs any command to completion, capturing its output; kills it (by its own PID) on timeout. */
    static Result exec(List<String> command, Duration timeout) throws IOException, InterruptedException {
        Path out = Files.createTempFile("parityd-it", ".out");
        Path err = Files.createTempFile("parityd-it", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", command) + " did not finish within " + timeout
                        + "; stderr: " + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs a command that must succeed and returns its standard output. */
    static String check(List<String> command, Duration timeout) throws IOException, InterruptedException {
        Result r = exec(command, timeout);
        assertThat(r.exitCode()).as("exit status of %s; stderr: %s", command, r.stderr()).isZero();
        return r.stdout();
    }
}
