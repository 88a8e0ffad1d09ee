package io.parityd.raid;

import static io.parityd.raid.ArrayCreatorTest.readRecord;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.parityd.block.BlockDevice;
import io.parityd.block.ForwardingDevice;
import io.parityd.member.FileMember;

/**
 * The journal identity in the superblocks ({@link Superblock}, flag JOURNALED and the UUID at
 * 0x0C0): what {@link AssembledArray#markDirty(UUID)} records, what the next assembly reports,
 * and which member wins when a crash left them disagreeing.
 */
class AssembledArrayJournalTest {

    private static final int MIB = 1 << 20;
    private static final Instant CREATED = Instant.parse("2025-06-01T10:00:00Z");
    private static final Instant LATER = Instant.parse("2025-06-02T08:30:00Z");
    private static final UUID J1 = UUID.fromString("11111111-0000-4000-8000-00000000000a");
    private static final UUID J2 = UUID.fromString("22222222-0000-4000-8000-00000000000b");

    @TempDir
    Path dir;

    private final ArrayAssembler assembler = new ArrayAssembler(Clock.fixed(LATER, ZoneOffset.UTC));

    @Test
    void shouldReportNoJournalForANewArray() throws Exception {
        List<Path> members = create();

        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.journalUuid()).isEmpty();
        }
    }

    @Test
    void shouldReportTheJournalTheLastRunNamedAfterAnUncleanStop() throws Exception {
        List<Path> members = create();
        try (AssembledArray array = assembler.assemble(members)) {
            array.markDirty(J1);
            assertThat(array.journalUuid()).as("this run's journal is not the last run's").isEmpty();
        } // and then a crash: no markClean
        assertThat(members).allSatisfy(m -> assertThat(readRecord(m).journalUuid()).contains(J1));

        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.shutDownCleanly()).isFalse();
            assertThat(array.journalUuid()).contains(J1);
        }
    }

    @Test
    void shouldForgetTheJournalOnMarkClean() throws Exception {
        List<Path> members = create();
        try (AssembledArray array = assembler.assemble(members)) {
            array.markDirty(J1);
            array.markClean();
            assertThat(array.journalUuid()).isEmpty();
        }
        assertThat(members).allSatisfy(m -> {
            assertThat(readRecord(m).journalUuid()).isEmpty();
            assertThat(readRecord(m).flags() & SuperblockRecord.FLAG_JOURNALED).isZero();
        });

        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.shutDownCleanly()).isTrue();
            assertThat(array.journalUuid()).isEmpty();
        }
    }

    @Test
    void shouldKeepTheLastRunsJournalThroughOtherUpdates() throws Exception {
        List<Path> members = create();
        try (AssembledArray array = assembler.assemble(members)) {
            array.markDirty(J1);
        }
        try (AssembledArray array = assembler.assemble(members)) {
            array.markFaulty(2, "drill"); // an update that is neither markDirty nor markClean
        }
        assertThat(members.subList(0, 2)).allSatisfy(m -> {
            assertThat(readRecord(m).generation()).isEqualTo(3);
            assertThat(readRecord(m).journalUuid()).contains(J1);
        });

        try (AssembledArray array = assembler.assemble(members, true)) {
            assertThat(array.journalUuid()).contains(J1);
        }
    }

    @Test
    void shouldReportTheJournalTheLastRunNamedWhenRunsNameDifferentOnes() throws Exception {
        List<Path> members = create();
        try (AssembledArray array = assembler.assemble(members)) {
            array.markDirty(J1);
        }
        try (AssembledArray array = assembler.assemble(members)) {
            array.markDirty(J2);
            assertThat(array.journalUuid()).contains(J1);
        }
        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.journalUuid()).contains(J2);
            array.markDirty();
        }
        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.shutDownCleanly()).isFalse();
            assertThat(array.journalUuid()).as("markDirty() names no journal").isEmpty();
        }
    }

    @Test
    void shouldTakeTheNewestJournalWhenACrashStoppedMarkDirtyHalfway() throws Exception {
        List<Path> members = create();
        rewrite(members.get(1), r -> r.withClean(false).withJournal(Optional.of(J1)).withGeneration(2, LATER));

        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.shutDownCleanly()).isFalse();
            assertThat(array.journalUuid()).contains(J1);
            array.markClean();
        }
        assertThat(members).allSatisfy(m -> {
            assertThat(readRecord(m).generation()).isEqualTo(3);
            assertThat(readRecord(m).journalUuid()).isEmpty();
        });
    }

    @Test
    void shouldTakeTheNewestWhenACrashStoppedMarkCleanHalfway() throws Exception {
        List<Path> members = create();
        try (AssembledArray array = assembler.assemble(members)) {
            array.markDirty(J1);
        }
        // markClean flushed the members, then reached member c only.
        rewrite(members.get(2), r -> r.withClean(true).withJournal(Optional.empty()).withGeneration(3, LATER));

        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.shutDownCleanly()).as("a and b still say dirty").isFalse();
            assertThat(array.journalUuid()).as("the members held J1's writes before c forgot it").isEmpty();
        }
    }

    @Test
    void shouldTakeTheNewestWhenMembersNameDifferentJournals() throws Exception {
        List<Path> members = create();
        try (AssembledArray array = assembler.assemble(members)) {
            array.markDirty(J1);
        }
        // A later run's markDirty(J2) reached member a only, one generation up.
        rewrite(members.get(0), r -> r.withJournal(Optional.of(J2)).withGeneration(3, LATER));

        try (AssembledArray array = assembler.assemble(List.of(members.get(2), members.get(0), members.get(1)))) {
            assertThat(array.journalUuid()).contains(J2);
            array.markDirty(J2);
        }
        assertThat(members).allSatisfy(m -> {
            assertThat(readRecord(m).generation()).isEqualTo(4);
            assertThat(readRecord(m).journalUuid()).contains(J2);
        });
    }

    /** The members must hold what a journal held before the superblocks stop naming it. */
    @Test
    void shouldFlushEveryMemberBeforeForgettingOrReplacingAJournal() throws Exception {
        List<Path> members = create();
        List<String> events = new ArrayList<>();
        try (AssembledArray opened = assembler.assemble(members)) {
            AssembledArray array = recording(opened, events);

            array.markDirty(J1);
            assertThat(events).as("no journal to forget yet").containsExactly("write 0", "write 1", "write 2");

            events.clear();
            array.markDirty(J1);
            assertThat(events).as("same journal, nothing forgotten").containsExactly("write 0", "write 1", "write 2");

            events.clear();
            array.markDirty(J2);
            assertThat(events).containsExactly("flush 0", "flush 1", "flush 2", "write 0", "write 1", "write 2");

            events.clear();
            array.markDirty();
            assertThat(events).containsExactly("flush 0", "flush 1", "flush 2", "write 0", "write 1", "write 2");

            array.markDirty(J1);
            events.clear();
            array.markClean();
            assertThat(events).containsExactly("flush 0", "flush 1", "flush 2", "write 0", "write 1", "write 2");
        }
    }

    /** The same members, each behind a layer that logs its flushes and writes into {@code events}. */
    private static AssembledArray recording(AssembledArray array, List<String> events) throws IOException {
        BlockDevice[] devices = new BlockDevice[3];
        for (int slot = 0; slot < 3; slot++) {
            devices[slot] = new Recording(array.devices().get(slot), slot, events);
        }
        return new AssembledArray(array.geometry(), readRecord(array.memberPaths().get(0)), devices,
                array.memberPaths().toArray(Path[]::new), new String[3], array.table(), List.of(), true,
                Clock.fixed(LATER, ZoneOffset.UTC));
    }

    private List<Path> create() throws ArrayException {
        List<Path> paths = List.of(dir.resolve("a.img"), dir.resolve("b.img"), dir.resolve("c.img"));
        new ArrayCreator(Clock.fixed(CREATED, ZoneOffset.UTC))
                .create(new CreateSpec("tank", 5, 64 * 1024, OptionalLong.of(4L * MIB), paths, false));
        return paths;
    }

    /** Writes one member's next superblock, {@code change} applied to its current one, as a crash leaves it. */
    private static void rewrite(Path member, UnaryOperator<SuperblockRecord> change)
            throws IOException {
        try (FileMember device = FileMember.open(member, false)) {
            SuperblockRecord record = Superblock.read(device).record().orElseThrow();
            Superblock.write(device, change.apply(record));
        }
    }

    /** Passes everything through, logging flushes and writes (by slot) in the order they arrive. */
    private static final class Recording extends ForwardingDevice {
        private final int slot;
        private final List<String> events;

        Recording(BlockDevice inner, int slot, List<String> events) {
            super(inner);
            this.slot = slot;
            this.events = events;
        }

        @Override
        public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
            events.add("write " + slot);
            next.write(src, offset, fua);
        }

        @Override
        public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
            events.add("zero " + slot);
            next.writeZeroes(offset, length, mayDeallocate, fua);
        }

        @Override
        public void trim(long offset, long length, boolean fua) throws IOException {
            events.add("trim " + slot);
            next.trim(offset, length, fua);
        }

        @Override
        public void flush() throws IOException {
            events.add("flush " + slot);
            next.flush();
        }
    }
}
