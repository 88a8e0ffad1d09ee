package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code systemd-analyze verify} on every unit in {@code systemd/}, as installed: parityd's
 * launcher stands where the units expect {@code /usr/bin/parityd}, and the nbd-client example's
 * programs where the machine has them (the kernel's client is not needed to check the unit).
 * systemd-analyze exits 0 even for a directive it ignores, so any complaint at all fails.
 */
class SystemdUnitsIT {

    @TempDir
    Path dir;

    @Test
    void shouldVerifyEveryUnitWithoutAComplaint() throws Exception {
        Tools.require("systemd-analyze", "systemd");
        Path units = Parityd.home().resolve("systemd");
        List<String> command = new ArrayList<>(List.of("systemd-analyze", "verify", "--man=no"));
        try (var files = Files.list(units)) {
            for (Path unit : files.filter(f -> f.toString().endsWith(".service")).sorted().toList()) {
                String text = Files.readString(unit)
                        .replace("/usr/bin/parityd", Parityd.launcher().toString())
                        .replace("/usr/sbin/nbd-client", existing("/usr/sbin/nbd-client"))
                        .replace("/sbin/modprobe", existing("/sbin/modprobe"));
                // A template is checked as an instance of it.
                String name = unit.getFileName().toString().replace("@.service", "@a.service");
                Files.writeString(dir.resolve(name), text);
                command.add(dir.resolve(name).toString());
            }
        }
        assertThat(command).as("units found").hasSizeGreaterThan(6);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out.lines().filter(l -> l.contains(dir.toString()))).as("complaints about the units").isEmpty();
    }

    /** {@code program} if the machine has it, else a program that does: the unit's syntax is what is checked. */
    private static String existing(String program) {
        return Files.isExecutable(Path.of(program)) ? program : "/bin/true";
    }
}
