package io.parityd.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A controller's state file: durable, read back, owner-only when parityd makes it (issue 14). */
class ControllerStateTest {

    @TempDir
    Path dir;

    @Test
    void shouldRecordTheEpochOwnerOnlyAndKeepAnOperatorsMode() throws Exception {
        UUID array = UUID.randomUUID();
        Path journal = dir.resolve("a.nvram");
        ControllerState state = ControllerState.load(journal, array, "a");
        assertThat(state.inSyncEpoch()).isZero();
        state.inSyncAt(7);
        Path file = dir.resolve("a.nvram.state");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(ControllerState.load(journal, array, "a").inSyncEpoch()).isEqualTo(7);

        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        state.inSyncAt(8);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r-----");
        assertThat(ControllerState.load(journal, array, "b").inSyncEpoch()).as("another controller's").isZero();
    }
}
