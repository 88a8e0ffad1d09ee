package io.parityd.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.link.Finished;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalMode;
import io.parityd.nvram.JournalOptions;
import io.parityd.nvram.RecordKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a standby knows of the writes its primary finished: only seqs it holds count, and they go
 * when the primary retires them, so a promotion never skips a command on a stale word.
 */
class StandbyJournalTest {

    @TempDir
    Path dir;

    private Journal journal;
    private StandbyJournal standby;

    @BeforeEach
    void open() throws Exception {
        journal = Journal.open(new JournalOptions(dir.resolve("standby"), new UUID(3, 4), "standby", null, 8 << 20,
                false, false, JournalOptions.SyncHook.NONE, JournalMode.COMMANDS));
        standby = new StandbyJournal(journal, 1 << 20, 64 << 20, seq -> { });
    }

    @AfterEach
    void close() throws Exception {
        standby.close();
        journal.close();
    }

    @Test
    void shouldCountOnlyHeldSeqsAsFinishedAndForgetThemOnceRetired() throws Exception {
        for (long seq = 1; seq <= 4; seq++) {
            standby.hold(seq, RecordKind.WRITE, seq * 4096, 4096, 0, null).get(10, TimeUnit.SECONDS);
        }
        standby.heldSoFar().get(10, TimeUnit.SECONDS);
        standby.finished(new Finished(new long[] {2, 4, 99}));
        assertThat(standby.finishedSeqs()).as("99 was never held").containsExactlyInAnyOrder(2L, 4L);

        standby.retiredThrough(2);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (journal.live().size() > 2 && System.nanoTime() < deadline) {
            Thread.sleep(1); // the retire runs on the standby's retire thread
        }
        assertThat(standby.finishedSeqs()).as("2 retired with its record").containsExactly(4L);
        assertThat(journal.live()).extracting(r -> r.aux()).containsExactly(3L, 4L);
    }

    /**
     * A joining standby gets some records twice (copied and streamed) and the primary's marks as
     * records of their regions under one seq: every one of them retires with that seq, or the
     * journal's applied prefix stops there and nothing after it ever retires.
     */
    @Test
    void shouldRetireEveryRecordHeldUnderOneSeq() throws Exception {
        standby.hold(5, RecordKind.WRITE, 0, 4096, 0, null).get(10, TimeUnit.SECONDS);
        standby.hold(5, RecordKind.WRITE, 0, 4096, 0, null).get(10, TimeUnit.SECONDS); // copied and streamed
        standby.hold(5, RecordKind.WRITE, 2 << 20, 1 << 20, 0, null).get(10, TimeUnit.SECONDS); // a mark's region
        standby.hold(6, RecordKind.WRITE, 8192, 4096, 0, null).get(10, TimeUnit.SECONDS);
        standby.heldSoFar().get(10, TimeUnit.SECONDS);
        standby.retiredThrough(5);
        standby.retiredThrough(6);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!journal.live().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(journal.live()).as("records left after the primary retired them all").isEmpty();
    }
}
