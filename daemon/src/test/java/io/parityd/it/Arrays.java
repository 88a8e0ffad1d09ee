package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Member files for a test array, and the commands that make and check it. */
final class Arrays {

    private Arrays() {
    }

    static List<Path> members(Path dir, int count) {
        List<Path> members = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            members.add(dir.resolve("member" + i + ".img"));
        }
        return members;
    }

    static List<String> paths(List<Path> members) {
        return members.stream().map(Path::toString).toList();
    }

    /** {@code parityd create --name NAME --size SIZE MEMBERS...}, which must succeed. */
    static Parityd.Result create(String name, String size, List<Path> members, String... extra)
            throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("create", "--name", name, "--size", size));
        args.addAll(List.of(extra));
        args.addAll(paths(members));
        Parityd.Result r = Parityd.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as("create: %s", r.all()).isZero();
        return r;
    }

    /** {@code parityd serve --listen 127.0.0.1:0 --admin-socket LOG_DIR/admin.sock MEMBERS...}. */
    static DaemonProcess serve(Path log, List<Path> members, String... extra) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:0",
                "--admin-socket", adminSocket(log).toString()));
        args.addAll(List.of(extra));
        args.addAll(paths(members));
        return DaemonProcess.start(log, args.toArray(String[]::new));
    }

    /** The admin socket a daemon started by {@link #serve} listens on: beside its log. */
    static Path adminSocket(Path log) {
        return log.resolveSibling("admin.sock");
    }

    /** Offline parity check of the stopped array: every stripe read, zero mismatches expected. */
    static void assertParityClean(List<Path> members) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("check"));
        args.addAll(paths(members));
        Parityd.Result r = Parityd.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as("parityd check: %s", r.all()).isZero();
        assertThat(r.stdout()).contains(" 0 parity mismatches");
    }
}
