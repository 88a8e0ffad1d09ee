package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A clean stop of {@code serve} whose journal's filesystem filled up while it ran (a small tmpfs
 * this test mounts and fills, so root only): the stop still exits 0 and marks the array clean,
 * since every write is on the members and the journal is empty; where even that cannot be done,
 * the message names the journal, says the filesystem is full and what to do.
 */
class JournalFilesystemFullIT extends DaemonTestBase {

    private Path mount;

    @BeforeEach
    void mountTmpfs() throws Exception {
        Path point = dir.resolve("nvram");
        Files.createDirectory(point);
        Parityd.Result r = Parityd.exec(List.of("mount", "-t", "tmpfs", "-o", "size=96m,mode=0700", "parityd-it",
                point.toString()), Duration.ofSeconds(30));
        assumeTrue(r.exitCode() == 0, "cannot mount a tmpfs here (needs root): " + r.all());
        mount = point;
    }

    /** Runs before the base class's: the daemon holds the journal open, so it goes first. */
    @AfterEach
    void unmount() throws Exception {
        if (daemon != null) {
            daemon.close();
            daemon = null;
        }
        if (mount != null) {
            Parityd.Result r = Parityd.exec(List.of("umount", "-l", mount.toString()), Duration.ofSeconds(30));
            assertThat(r.exitCode()).as("umount: %s", r.all()).isZero();
        }
    }

    @Test
    void shouldStopCleanlyWhenTheJournalsFilesystemIsFull() throws Exception {
        List<Path> members = written("full");
        fill(mount);
        assertThat(daemon.terminate(Duration.ofSeconds(60))).as("exit status; log:%n%s", daemon.log()).isZero();
        assertThat(daemon.log()).contains("stopped cleanly").doesNotContain("No space left on device");
        daemon = null;
        assertThat(examine(members)).contains("state:      clean");

        Files.delete(mount.resolve("fill"));
        daemon = Arrays.serve(dir.resolve("again.log"), members, "--nvram", mount.resolve("full.nvram").toString(),
                "--nvram-size", "16M");
        assertThat(daemon.log()).doesNotContain("not shut down cleanly");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;
        Arrays.assertParityClean(members);
    }

    @Test
    void shouldSayTheFilesystemIsFullWhenTheStopCannotMarkTheJournalClean() throws Exception {
        List<Path> members = written("noroom");
        Path journal = mount.resolve("noroom.nvram");
        Files.delete(journal.resolveSibling("noroom.nvram.clean.next")); // as if the room could not be kept
        fill(mount);
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isEqualTo(1);
        assertThat(daemon.log()).contains("journal " + journal + ": cannot write its clean-shutdown marker")
                .contains("the filesystem is full").contains("free space on that filesystem (df " + mount + ")");
        daemon = null;

        Files.delete(mount.resolve("fill"));
        daemon = Arrays.serve(dir.resolve("again.log"), members, "--nvram", journal.toString(), "--nvram-size", "16M");
        assertThat(daemon.log()).as("as the message said").contains("recovered from journal");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;
        Arrays.assertParityClean(members);
    }

    /** A served array with its journal on the tmpfs, after 4 MiB of writes. */
    private List<Path> written(String name) throws Exception {
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create(name, "12M", members);
        daemon = Arrays.serve(dir.resolve(name + ".log"), members, "--nvram", mount.resolve(name + ".nvram").toString(),
                "--nvram-size", "16M");
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), daemon.exportName(), false)) {
            java.util.Random random = new java.util.Random(14);
            for (int i = 0; i < 4; i++) {
                byte[] block = new byte[1 << 20];
                random.nextBytes(block);
                c.write((long) i << 20, block);
            }
        }
        return members;
    }

    /** Writes zeroes into {@code dir}/fill until the filesystem has not one byte left. */
    private static void fill(Path dir) throws IOException {
        try (FileChannel c = FileChannel.open(dir.resolve("fill"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            for (int size : new int[] {1 << 20, 4096, 1}) {
                ByteBuffer zeroes = ByteBuffer.allocateDirect(size);
                try {
                    while (true) {
                        c.write(zeroes.clear());
                    }
                } catch (IOException full) {
                    assertThat(full.getMessage()).contains("No space left on device");
                }
            }
        }
    }

    private static String examine(List<Path> members) throws Exception {
        return Parityd.run("examine", members.get(0).toString()).stdout();
    }
}
