package io.parityd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.parityd.admin.AdminAccess;
import io.parityd.admin.AdminServer;
import io.parityd.admin.RecordingArrayControl;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real caller who is neither root nor the daemon's user: {@code parityd status} run as
 * {@code nobody} (through {@code setpriv}) against a daemon running as root. First the kernel
 * stops it (the socket's directory is 0700), then, with the modes loosened, the daemon's own
 * peer-credential check does; both times the operator reads the rule.
 */
class NonRootCallerTest {

    private static final int NOBODY = 65534;
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    @TempDir
    Path dir;

    private Path lib;
    private String classPath;

    @BeforeEach
    void requireRootAndSetpriv() throws IOException {
        assumeTrue(AdminAccess.currentUid() == 0, "needs root, to run a caller as another user");
        assumeTrue(Files.isExecutable(SETPRIV), "needs setpriv (package util-linux)");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        lib = Files.createDirectory(dir.resolve("lib"));
        classPath = readableClassPath();
    }

    @Test
    void shouldTellAnotherUserTheRuleWhetherTheKernelOrTheDaemonRefuses() throws Exception {
        RecordingArrayControl control = new RecordingArrayControl(dir);
        Path socket = dir.resolve("run/vol0.sock");
        try (AdminServer server = AdminServer.start(socket, control)) {
            Result byKernel = statusAsNobody(socket);
            assertThat(byKernel.status()).as(byKernel.err()).isEqualTo(Main.FAILED);
            assertThat(byKernel.err()).isEqualTo("parityd status: only root or the user running parityd may use " + socket
                    + "; run the command as that user or with sudo\n");

            Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            Result byDaemon = statusAsNobody(socket);
            assertThat(byDaemon.status()).as(byDaemon.err()).isEqualTo(Main.FAILED);
            assertThat(byDaemon.err()).isEqualTo("parityd status: only root or the user running parityd (root) may use " + socket
                    + "; you are uid " + NOBODY + "; run the command as that user or with sudo\n");
        }
        assertThat(control.calls()).as("neither caller reached the array").isEmpty();
    }

    record Result(int status, String err) {
    }

    private Result statusAsNobody(Path socket) throws Exception {
        List<String> command = new ArrayList<>(List.of(SETPRIV.toString(), "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups", javaBinary(), "-cp", classPath, Main.class.getName(),
                "status", "--admin-socket", socket.toString()));
        Path err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("parityd status as nobody did not finish within 60 s");
        }
        return new Result(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /**
     * This JVM's main class path, linked (or copied) into a directory nobody can read: the local
     * Maven repository usually lives under root's 0700 home. Test classes stay out, so the
     * caller runs the product's code and logging configuration only.
     */
    private String readableClassPath() throws IOException {
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path source = Path.of(entry);
            if (entry.isEmpty() || source.endsWith("test-classes") || !Files.exists(source)) {
                continue;
            }
            Path target = lib.resolve(n++ + "-" + source.getFileName());
            if (Files.isDirectory(source)) {
                copyTree(source, target);
            } else {
                try {
                    Files.createLink(target, source);
                } catch (IOException | UnsupportedOperationException e) {
                    Files.copy(source, target);
                }
                Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
            }
            entries.add(target.toString());
        }
        return String.join(File.pathSeparator, entries);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path t = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(t);
                    Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
                } else {
                    Files.copy(f, t);
                    Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
        }
    }
}
