package io.parityd.nvram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A clean close on a journal whose filesystem is full: a small tmpfs (mounted here, so root
 * only), filled to the last byte after the journal opened. The close must still leave the clean
 * marker, since every record is retired and nothing new needs space; where it cannot, it says
 * which file, that the filesystem is full, and what to do.
 */
class JournalFilesystemFullTest {

    @TempDir
    Path dir;

    private Path mount;

    @BeforeEach
    void mountTmpfs() throws Exception {
        Path point = dir.resolve("tmpfs");
        Files.createDirectory(point);
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=96m,mode=0700", "parityd-test", point.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assumeTrue(p.waitFor() == 0, "cannot mount a tmpfs here (needs root): " + out);
        mount = point;
    }

    @AfterEach
    void unmount() throws Exception {
        if (mount != null) {
            Process p = new ProcessBuilder("umount", "-l", mount.toString()).inheritIO().start();
            assertThat(p.waitFor()).as("umount %s", mount).isZero();
        }
    }

    private Fixture fixture() {
        JournalOptions o = Fixture.in(mount).options();
        return new Fixture(o);
    }

    @Test
    void shouldCloseCleanlyOnAFullFilesystem() throws Exception {
        Fixture f = fixture();
        UUID uuid;
        try (Journal j = f.open()) {
            uuid = j.uuid();
            Ticket t = Fixture.write(j, 0, Fixture.bytes(65536, 1));
            j.whenDurable(t.lastSeq()).get(30, TimeUnit.SECONDS);
            j.applied(t);
            j.retire(t.lastSeq());
            fill(mount);
            j.closeClean();
        }
        Path marker = JournalFiles.cleanMarker(f.path());
        assertThat(Files.readString(marker).trim()).as("the clean marker names the journal").isEqualTo(uuid.toString());
        Files.delete(mount.resolve("fill"));
        try (Journal j = f.open()) {
            assertThat(j.plan().openedClean()).as("the next open finds it clean").isTrue();
            j.closeClean();
        }
    }

    @Test
    void shouldSayTheFilesystemIsFullWhenTheMarkerCannotBeWritten() throws Exception {
        Fixture f = fixture();
        Journal j = f.open();
        try {
            Files.deleteIfExists(JournalFiles.sibling(f.path(), ".clean.next")); // no room kept for the marker
            fill(mount);
            assertThatThrownBy(j::closeClean).isInstanceOf(IOException.class)
                    .hasMessageContaining("journal " + f.path())
                    .hasMessageContaining("the filesystem is full")
                    .hasMessageContaining("free space");
        } finally {
            j.close();
        }
    }

    /** Writes zeroes into {@code dir}/fill until the filesystem has no room left. */
    private static void fill(Path dir) throws IOException {
        ByteBuffer zeroes = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel c = FileChannel.open(dir.resolve("fill"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            while (true) {
                zeroes.clear();
                c.write(zeroes);
            }
        } catch (IOException full) {
            assertThat(full.getMessage()).contains("No space left on device");
        }
        try (FileChannel c = FileChannel.open(dir.resolve("fill"), StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            while (true) {
                one.clear();
                c.write(one); // the last partial page too
            }
        } catch (IOException full) {
            // full to the byte
        }
    }
}
