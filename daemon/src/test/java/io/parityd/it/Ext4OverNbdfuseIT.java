package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A real ext4 on the volume, through nbdfuse (the export as a file) and a loop mount, since
 * this kernel has no nbd driver: mkfs, mount, write files, unmount, fsck clean; then the
 * daemon restarts and every file reads back identical.
 */
class Ext4OverNbdfuseIT extends DaemonTestBase {

    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(3);

    private Path fuseDir;
    private Path mountDir;
    private Process nbdfuse;

    @AfterEach
    void cleanUp() throws Exception {
        // Whatever failed, leave no mount and no FUSE mount behind; the base class stops the daemon.
        if (mountDir != null && mounted(mountDir)) {
            Parityd.exec(List.of("umount", "-l", mountDir.toString()), Duration.ofSeconds(30));
        }
        if (fuseDir != null && mounted(fuseDir)) {
            Parityd.exec(List.of("fusermount3", "-uz", fuseDir.toString()), Duration.ofSeconds(30));
        }
        if (nbdfuse != null && nbdfuse.isAlive()) {
            nbdfuse.destroyForcibly().waitFor();
        }
    }

    @Test
    void shouldHoldAnExt4FilesystemAcrossARestart() throws Exception {
        Tools.require("nbdfuse", "libnbd-bin");
        Tools.require("fusermount3", "fuse3");
        Tools.require("mkfs.ext4", "e2fsprogs");
        Tools.requireMountCapability();
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("ext4vol", "129M", members);
        fuseDir = Files.createDirectory(dir.resolve("fuse"));
        mountDir = Files.createDirectory(dir.resolve("mnt"));

        daemon = Arrays.serve(dir.resolve("parityd-1.log"), members);
        Path image = attach(daemon.uri());
        run("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", image.toString());
        run("mount", "-o", "loop", image.toString(), mountDir.toString());
        Map<String, String> written = writeFiles(mountDir, 40);
        run("umount", mountDir.toString());
        Parityd.Result fsck = Parityd.exec(List.of("fsck.ext4", "-fn", image.toString()), TOOL_TIMEOUT);
        assertThat(fsck.exitCode()).as("fsck.ext4 -fn: %s", fsck.all()).isZero();
        detach();
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();

        daemon = Arrays.serve(dir.resolve("parityd-2.log"), members);
        image = attach(daemon.uri());
        run("mount", "-o", "loop,ro", image.toString(), mountDir.toString());
        assertThat(hashes(mountDir)).isEqualTo(written);
        run("umount", mountDir.toString());
        detach();
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();

        Arrays.assertParityClean(members);
    }

    /** Exposes the export as {@code fuse/nbd}: nbdfuse stays in the foreground, serving FUSE, until unmounted. */
    private Path attach(String uri) throws Exception {
        nbdfuse = new ProcessBuilder("nbdfuse", fuseDir.toString(), uri)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("nbdfuse.log").toFile()))
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(mounted(fuseDir) && Files.exists(fuseDir.resolve("nbd"))) && System.nanoTime() < deadline) {
            assertThat(nbdfuse.isAlive()).as("nbdfuse running; its log: %s", dir.resolve("nbdfuse.log")).isTrue();
            TimeUnit.MILLISECONDS.sleep(20);
        }
        assertThat(fuseDir.resolve("nbd")).as("nbdfuse file").exists();
        return fuseDir.resolve("nbd");
    }

    private void detach() throws Exception {
        run("fusermount3", "-u", fuseDir.toString());
        assertThat(nbdfuse.waitFor(30, TimeUnit.SECONDS)).as("nbdfuse exits after unmount").isTrue();
    }

    private static Map<String, String> writeFiles(Path root, int count) throws Exception {
        Random random = new Random(7);
        for (int i = 0; i < count; i++) {
            Path sub = Files.createDirectories(root.resolve("d" + (i % 5)));
            byte[] data = new byte[random.nextInt(3 << 20) + 1];
            random.nextBytes(data);
            Files.write(sub.resolve("f" + i + ".bin"), data);
        }
        run("sync");
        return hashes(root);
    }

    private static Map<String, String> hashes(Path root) throws Exception {
        Map<String, String> result = new TreeMap<>();
        try (var files = Files.walk(root)) {
            for (Path p : files.filter(Files::isRegularFile).filter(p -> !p.toString().contains("lost+found")).toList()) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                result.put(root.relativize(p).toString(), HexFormat.of().formatHex(md.digest(Files.readAllBytes(p))));
            }
        }
        assertThat(result).isNotEmpty();
        return result;
    }

    private static boolean mounted(Path path) throws Exception {
        return Files.readAllLines(Path.of("/proc/mounts")).stream().anyMatch(l -> l.split(" ")[1].equals(path.toString()));
    }

    private static void run(String... command) throws Exception {
        Parityd.check(List.of(command), TOOL_TIMEOUT);
    }
}
