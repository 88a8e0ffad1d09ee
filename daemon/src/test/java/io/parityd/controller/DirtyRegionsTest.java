package io.parityd.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalMode;
import io.parityd.nvram.JournalOptions;
import io.parityd.nvram.RecoveryPlan;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The marks of a commands journal (issue 15, item 3): a write waits for its region's mark only
 * the first time; a mark outlives every retire cycle while its region is in use and goes only
 * once a member sync covered its writes and the region stayed idle for the linger time, or at
 * once when writes wait for room. Against a real journal file, whose marks a reopen reads back.
 */
class DirtyRegionsTest {

    private static final long REGION = 1 << 20;
    private static final long VOLUME = 64 * REGION;

    @TempDir
    Path dir;

    private Journal journal;
    private final ManualClock clock = new ManualClock(1_000);
    private final AtomicInteger pressure = new AtomicInteger();
    private DirtyRegions regions;

    @BeforeEach
    void open() throws Exception {
        journal = Journal.open(options(null));
        regions = new DirtyRegions(journal, REGION, VOLUME, 4, pressure::incrementAndGet, clock::nanos);
    }

    @AfterEach
    void close() throws Exception {
        journal.close();
    }

    private JournalOptions options(UUID expected) {
        return new JournalOptions(dir.resolve("journal"), new UUID(1, 2), "regions", expected, 8 << 20, false, false,
                JournalOptions.SyncHook.NONE, JournalMode.COMMANDS);
    }

    @Test
    void shouldMakeOnlyTheFirstWriteToARegionWaitForItsMark() throws Exception {
        DirtyRegions.Hold first = regions.begin(0, 4096);
        first.durable.get(10, TimeUnit.SECONDS);
        first.end(1);
        DirtyRegions.Hold second = regions.begin(8192, 4096);

        assertThat(second.durable).as("the region is durably marked already").isDone();
        second.end(2);
        assertThat(regions.writes()).isEqualTo(2);
        assertThat(regions.marksWritten()).isEqualTo(1);
        assertThat(journal.liveMarks()).extracting(RecoveryPlan.Mark::region).containsExactly(0L);
    }

    @Test
    void shouldKeepAMarkThroughRetireCyclesWhileItsRegionIsInUse() throws Exception {
        write(0, 1);
        for (int cycle = 0; cycle < 10; cycle++) {
            clock.advance(Duration.ofSeconds(1));
            write(4096, 2 + cycle);
            regions.clean(2 + cycle); // a FLUSH's member sync covered every write so far
        }
        assertThat(regions.marked()).as("a region written every second keeps its mark").isEqualTo(1);
        assertThat(regions.marksWritten()).isEqualTo(1);
    }

    @Test
    void shouldClearAMarkOnlyOnceSyncedAndIdleForTheLingerTime() throws Exception {
        write(0, 5);
        clock.advance(Duration.ofNanos(DirtyRegions.LINGER_NANOS));
        regions.clean(4);
        assertThat(regions.marked()).as("its write is newer than the member sync").isEqualTo(1);

        regions.clean(5);
        assertThat(regions.marked()).as("synced and idle for the linger time").isZero();
        assertThat(journal.liveMarks()).isEmpty();

        write(0, 6);
        clock.advance(Duration.ofNanos(DirtyRegions.LINGER_NANOS - 1));
        regions.clean(6);
        assertThat(regions.marked()).as("synced, but written too recently").isEqualTo(1);
    }

    @Test
    void shouldNotClearTheRegionOfAWriteInFlight() throws Exception {
        DirtyRegions.Hold hold = regions.begin(0, 4096);
        hold.durable.get(10, TimeUnit.SECONDS);
        clock.advance(Duration.ofMinutes(1));
        regions.clean(Long.MAX_VALUE);
        assertThat(regions.marked()).isEqualTo(1);
        hold.end(1);
        regions.clean(1);
        assertThat(regions.marked()).isZero();
    }

    @Test
    void shouldMakeAWriteWaitForRoomAndClearAtOnceWhenMarksRunOut() throws Exception {
        for (int r = 0; r < 4; r++) {
            write(r * REGION, r + 1);
        }
        DirtyRegions.Hold waiting = regions.begin(10 * REGION, 4096);
        assertThat(waiting.durable).as("no room for a fifth mark").isNotDone();
        assertThat(pressure.get()).as("asked for a retire cycle").isEqualTo(1);

        regions.clean(4); // a member sync covered the four; none idle for the linger time, but a write waits
        waiting.durable.get(10, TimeUnit.SECONDS);
        waiting.end(5);
        assertThat(regions.marked()).isEqualTo(1);
        assertThat(regions.writesThatWaited()).as("each first write to a region, and the one that waited for room, once")
                .isEqualTo(5);
    }

    @Test
    void shouldMarkTheNextRegionAheadOfASequentialWriter() throws Exception {
        DirtyRegions.Hold hold = regions.begin(REGION - (256 << 10), 256 << 10);
        hold.durable.get(10, TimeUnit.SECONDS);
        hold.end(1);
        assertThat(regions.marked()).as("its own region and the next").isEqualTo(2);
        DirtyRegions.Hold next = regions.begin(REGION, 256 << 10);
        next.durable.get(10, TimeUnit.SECONDS);
        next.end(2);
        assertThat(regions.marksWritten()).isEqualTo(2);
    }

    @Test
    void shouldLeaveTheMarksOfACrashForTheNextOpenToResync() throws Exception {
        write(3 * REGION, 1);
        write(7 * REGION + 5, 2);
        UUID uuid = journal.uuid();
        journal.close(); // not closeClean: a crash, as far as the file can tell
        journal = Journal.open(options(uuid));

        assertThat(journal.plan().marks()).extracting(RecoveryPlan.Mark::region).containsExactlyInAnyOrder(3L, 7L);
        assertThat(journal.plan().marks()).extracting(RecoveryPlan.Mark::length).containsOnly(REGION);
    }

    private void write(long offset, long seq) throws Exception {
        DirtyRegions.Hold hold = regions.begin(offset, 4096);
        hold.durable.get(10, TimeUnit.SECONDS);
        hold.end(seq);
    }
}
