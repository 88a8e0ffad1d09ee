package io.parityd.nvram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A journal in {@link JournalMode#COMMANDS} mode (issue 15): records name ranges and carry no data,
 * dirty-region marks are durable before anyone relies on them, and the mode lives in the header.
 */
class CommandJournalTest {

    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private static Ticket command(Journal j, RecordKind kind, long offset, long length, int flags, long aux)
            throws Exception {
        j.reserve(0).get();
        Ticket t = j.begin(0);
        j.append(t, kind, offset, length, flags, aux, null);
        return t;
    }

    @Test
    void shouldKeepCommandsAndMarksAcrossACrash() throws Exception {
        Fixture f = Fixture.in(dir).mode(JournalMode.COMMANDS);
        UUID uuid;
        try (Journal j = f.open()) {
            uuid = j.uuid();
            assertThat(j.mode()).isEqualTo(JournalMode.COMMANDS);
            command(j, RecordKind.WRITE, 4096, 3L * MIB, WriteFlags.FUA, 77);
            command(j, RecordKind.TRIM, 8L * MIB, 65536, 0, 78);
            j.mark(0, 0, 4L * MIB).get(30, TimeUnit.SECONDS);
            j.mark(2, 8L * MIB, 4L * MIB).get(30, TimeUnit.SECONDS);
            assertThat(j.marks()).isEqualTo(2);
            assertThat(j.stats().usedBytes()).as("commands hold no data").isZero();
        }
        try (Journal j = f.expected(uuid).open()) {
            RecoveryPlan plan = j.plan();
            assertThat(plan.mode()).isEqualTo(JournalMode.COMMANDS);
            assertThat(plan.requests()).containsExactly(
                    new PendingRequest(1, 1, RecordKind.WRITE, 4096, 3L * MIB, WriteFlags.FUA, 77),
                    new PendingRequest(2, 2, RecordKind.TRIM, 8L * MIB, 65536, 0, 78));
            assertThat(plan.marks()).containsExactlyInAnyOrder(new RecoveryPlan.Mark(0, 0, 4L * MIB),
                    new RecoveryPlan.Mark(2, 8L * MIB, 4L * MIB));
            assertThat(j.readData(plan.requests().get(0)).remaining()).as("a command carries no data").isZero();
            assertThat(j.marks()).isEqualTo(2);
        }
    }

    @Test
    void shouldRefuseDataInACommandsJournalAndCommandsWithoutDataInADataJournal() throws Exception {
        try (Journal j = Fixture.in(dir).mode(JournalMode.COMMANDS).open()) {
            j.reserve(4096).get();
            Ticket t = j.begin(4096);
            assertThatThrownBy(() -> j.append(t, RecordKind.WRITE, 0, 4096, 0, 0, ByteBuffer.allocate(4096)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("commands journal");
        }
    }

    @Test
    void shouldCompleteAMarkOnlyAfterASyncThatBeganAfterIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger syncs = new AtomicInteger();
        Fixture f = Fixture.in(dir).mode(JournalMode.COMMANDS).hook(file -> {
            syncs.incrementAndGet();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try (Journal j = f.open()) {
            int before = syncs.get();
            CompletableFuture<Void> durable = j.mark(5, 20L * MIB, 4L * MIB);
            Thread.sleep(100);
            assertThat(durable).as("waits for the sync").isNotDone();
            release.countDown();
            durable.get(30, TimeUnit.SECONDS);
            assertThat(syncs.get()).isGreaterThan(before);
        }
    }

    @Test
    void shouldNeedNoSyncForAMarkOnANonVolatilePlacement() throws Exception {
        try (Journal j = Fixture.in(dir).mode(JournalMode.COMMANDS).nonVolatile().open()) {
            assertThat(j.mark(1, 4L * MIB, 4L * MIB)).isCompleted();
        }
    }

    @Test
    void shouldDropATornMarkAndForgetAnUnmarkedOne() throws Exception {
        Fixture f = Fixture.in(dir).mode(JournalMode.COMMANDS);
        UUID uuid;
        try (Journal j = f.open()) {
            uuid = j.uuid();
            command(j, RecordKind.WRITE, 0, 4096, 0, 1);
            j.mark(0, 0, 4L * MIB).get(30, TimeUnit.SECONDS);
            j.mark(1, 4L * MIB, 4L * MIB).get(30, TimeUnit.SECONDS);
            j.mark(3, 12L * MIB, 4L * MIB).get(30, TimeUnit.SECONDS);
            j.unmark(1);
            Fixture.corrupt(j, JournalFormat.markKey(3), 20);
        }
        try (Journal j = f.expected(uuid).open()) {
            assertThat(j.plan().marks()).containsExactly(new RecoveryPlan.Mark(0, 0, 4L * MIB));
            assertThat(j.plan().notes()).anyMatch(n -> n.contains("dropped the mark of region 3"));
            assertThat(j.marks()).isEqualTo(1);
        }
    }

    @Test
    void shouldSwitchModeOnlyWhenNothingIsHeldAndRemember() throws Exception {
        Fixture f = Fixture.in(dir);
        UUID uuid;
        try (Journal j = f.open()) {
            uuid = j.uuid();
            assertThat(j.mode()).isEqualTo(JournalMode.DATA);
            Ticket t = Fixture.write(j, 0, Fixture.bytes(4096, 1));
            assertThatThrownBy(() -> j.switchMode(JournalMode.COMMANDS)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("still holds 1 record");
            j.applied(t);
            j.retire(t.lastSeq());
            j.switchMode(JournalMode.COMMANDS);
            assertThat(j.mode()).isEqualTo(JournalMode.COMMANDS);
            command(j, RecordKind.WRITE, 0, 8192, 0, 0);
        }
        try (Journal j = f.expected(uuid).mode(JournalMode.DATA).open()) {
            assertThat(j.mode()).as("the file's mode, until what it holds is finished").isEqualTo(JournalMode.COMMANDS);
            assertThat(j.plan().mode()).isEqualTo(JournalMode.COMMANDS);
            assertThat(j.plan().requests()).singleElement().extracting(PendingRequest::length).isEqualTo(8192L);
        }
    }

    @Test
    void shouldRecreateACleanJournalInTheModeAsked() throws Exception {
        Fixture f = Fixture.in(dir);
        UUID uuid;
        try (Journal j = f.open()) {
            uuid = j.uuid();
            j.closeClean();
        }
        try (Journal j = f.mode(JournalMode.COMMANDS).open()) {
            assertThat(j.uuid()).as("the same journal").isEqualTo(uuid);
            assertThat(j.mode()).isEqualTo(JournalMode.COMMANDS);
            assertThat(j.plan().openedClean()).isTrue();
            j.closeClean();
        }
        try (Journal j = f.mode(JournalMode.COMMANDS).open()) {
            assertThat(j.mode()).isEqualTo(JournalMode.COMMANDS);
        }
    }

    @Test
    void shouldRefuseACleanCloseWhileMarksRemain() throws Exception {
        try (Journal j = Fixture.in(dir).mode(JournalMode.COMMANDS).open()) {
            j.mark(0, 0, 4L * MIB).get(30, TimeUnit.SECONDS);
            assertThatThrownBy(j::closeClean).isInstanceOf(IllegalStateException.class).hasMessageContaining("1 mark");
            j.unmark(0);
            j.closeClean();
        }
    }
}
