package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a newcomer types: bin/parityd with --help, the demo command of the README's first line,
 * and a Unix socket instead of TCP.
 */
class LauncherIT extends DaemonTestBase {

    @Test
    void shouldPrintHelpForEveryCommand() throws Exception {
        Parityd.Result top = Parityd.run("--help");
        assertThat(top.exitCode()).isZero();
        assertThat(top.stdout()).contains("create", "serve", "demo", "check", "examine");
        for (String command : List.of("create", "serve", "demo", "check", "examine")) {
            Parityd.Result r = Parityd.run(command, "--help");
            assertThat(r.exitCode()).as(command).isZero();
            assertThat(r.stdout()).as(command).startsWith("Usage: parityd " + command);
        }
        assertThat(Parityd.run("--version").stdout()).startsWith("parityd 0.");
        Parityd.Result wrong = Parityd.run("frobnicate");
        assertThat(wrong.exitCode()).isEqualTo(2);
        assertThat(wrong.stderr()).contains("frobnicate");
    }

    @Test
    void shouldRunTheDemoAndKeepItsDataAcrossRuns() throws Exception {
        Tools.require("nbdinfo", "libnbd-bin");
        Path demoDir = dir.resolve("demo");
        daemon = DaemonProcess.start(dir.resolve("demo-1.log"), "demo", "--dir", demoDir.toString(),
                "--listen", "127.0.0.1:0", "--member-size", "64M");
        assertThat(daemon.log()).contains("created a RAID-5 array on 5 sparse files");
        assertThat(Parityd.check(List.of("nbdinfo", "--size", daemon.uri()), Duration.ofSeconds(30)).trim())
                .isEqualTo(Long.toString(4L * (63 << 20)));
        byte[] data = "kept across runs".getBytes();
        byte[] block = java.util.Arrays.copyOf(data, 4096);
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), "demo", false)) {
            c.write(1 << 20, block);
        }
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();

        daemon = DaemonProcess.start(dir.resolve("demo-2.log"), "demo", "--dir", demoDir.toString(), "--listen", "127.0.0.1:0");
        assertThat(daemon.log()).doesNotContain("created a RAID-5 array");
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), "demo", false)) {
            assertThat(c.read(1 << 20, 4096)).isEqualTo(block);
        }
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        assertThat(Files.list(demoDir).map(f -> f.getFileName().toString()))
                .as("five members and the journal (with its clean marker and lock file), nothing else")
                .containsExactlyInAnyOrder("member-0.img", "member-1.img", "member-2.img", "member-3.img", "member-4.img",
                        "demo.nvram", "demo.nvram.clean", "demo.nvram.lock");
    }

    @Test
    void shouldServeOnAUnixSocket() throws Exception {
        Tools.require("nbdinfo", "libnbd-bin");
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create("sock", "33M", members);
        Path socket = dir.resolve("parityd.sock");
        List<String> args = new java.util.ArrayList<>(List.of("serve", "--socket", socket.toString()));
        args.addAll(Arrays.paths(members));
        Path log = dir.resolve("parityd.log");
        Path classes = dir.resolve("classes.log");
        // The class log also shows a start compiles nothing: the build made Chronicle Map's state class.
        DaemonProcess.Launch logged = new DaemonProcess.Launch(
                java.util.Map.of("PARITYD_JAVA_OPTS", "-Xlog:class+load=info:file=" + classes), false);
        try (DaemonProcess unix = DaemonProcess.start(log, DaemonProcess.SERVING, logged, args.toArray(String[]::new))) {
            assertThat(unix.uri()).isEqualTo("nbd+unix:///sock?socket=" + socket);
            assertThat(Parityd.check(List.of("nbdinfo", "--size", unix.uri()), Duration.ofSeconds(30)).trim())
                    .isEqualTo(Long.toString(2L * (32 << 20)));
            assertThat(unix.terminate(Duration.ofSeconds(60))).isZero();
        }
        assertThat(socket).as("socket file removed on exit").doesNotExist();
        List<String> loaded = Files.readAllLines(classes);
        assertThat(loaded).as("classes loaded: the journal's store").anyMatch(l -> l.contains("io.parityd.nvram.JournalStore "));
        assertThat(loaded).as("classes loaded: Chronicle Map's state class, from the jar")
                .anyMatch(l -> l.contains("VanillaGlobalMutableState$$Native source: file:"));
        // Chronicle's compiler wrapper still creates javac's file manager; only a compile loads its code generator.
        assertThat(loaded.stream().filter(l -> l.contains("com.sun.tools.javac.jvm.") || l.contains("com.sun.tools.javac.comp.")))
                .as("javac's compiler classes, loaded only when something compiles").isEmpty();
    }
}
