package io.parityd.nvram;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal holds acknowledged writes (and in data mode their bytes): the files it creates are
 * owner-only whatever the umask lets through, and files that already exist keep their mode.
 */
class JournalFileModeTest {

    @TempDir
    Path dir;

    @Test
    void shouldCreateTheJournalItsLockAndItsCleanMarkerOwnerOnly() throws Exception {
        Fixture f = Fixture.in(dir);
        try (Journal j = f.open()) {
            assertThat(mode(f.path())).as("journal").isEqualTo("rw-------");
            assertThat(mode(JournalFiles.sibling(f.path(), ".lock"))).as("lock").isEqualTo("rw-------");
            j.closeClean();
        }
        assertThat(mode(JournalFiles.cleanMarker(f.path()))).as("clean marker").isEqualTo("rw-------");
    }

    @Test
    void shouldLeaveTheModeOfExistingFilesAlone() throws Exception {
        Fixture f = Fixture.in(dir);
        try (Journal j = f.open()) {
            j.closeClean();
        }
        Path lock = JournalFiles.sibling(f.path(), ".lock");
        Files.setPosixFilePermissions(f.path(), PosixFilePermissions.fromString("rw-r-----"));
        Files.setPosixFilePermissions(lock, PosixFilePermissions.fromString("rw-r-----"));
        try (Journal j = f.open()) {
            j.closeClean();
        }
        assertThat(mode(f.path())).as("journal").isEqualTo("rw-r-----");
        assertThat(mode(lock)).as("lock").isEqualTo("rw-r-----");
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}
