package io.parityd.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalMode;
import io.parityd.nvram.JournalOptions;
import io.parityd.raid.MemoryDevice;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands controller appends each single-process request's command on its own appender
 * thread, after the submitting (network) thread has gone on. {@link CommandController#journaledSoFar} must still
 * mean "every request submitted before is in the journal": an HA primary copies its journal to a
 * joining standby from that point. The crash matrix ({@link CrashPointTest}, {@link PowerLossTest})
 * covers what the commands guarantee.
 */
class CommandControllerTest {

    private static final int WRITES = 2_000;

    @TempDir
    Path dir;

    private Journal journal;
    private CommandController controller;

    @BeforeEach
    void open() throws Exception {
        journal = Journal.open(new JournalOptions(dir.resolve("journal"), new UUID(3, 4), "commands", null,
                16 << 20, true, false, JournalOptions.SyncHook.NONE, JournalMode.COMMANDS));
        controller = new CommandController(new MemoryDevice("volume", 64 << 20), journal, 4, 1 << 20, Replication.NONE);
    }

    @AfterEach
    void close() throws Exception {
        controller.close();
    }

    @Test
    void shouldCountEveryWriteSubmittedBeforeAsJournaledSoFar() throws Exception {
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (int i = 0; i < WRITES; i++) {
            writes.add(controller.write(0, (long) i * 4096, ByteBuffer.allocate(4096), false)); // single-process
        }

        controller.journaledSoFar().get(30, TimeUnit.SECONDS);

        assertThat(journal.stats().appended())
                .as("records appended once journaledSoFar completed, of %d writes submitted before it", WRITES)
                .isGreaterThanOrEqualTo(WRITES);
        CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    }
}
