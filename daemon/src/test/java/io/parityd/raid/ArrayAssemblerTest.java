package io.parityd.raid;

import static io.parityd.raid.ArrayCreatorTest.readRecord;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.parityd.member.FileMember;

class ArrayAssemblerTest {

    private static final int MIB = 1 << 20;
    private static final int CHUNK = 64 * 1024;
    private static final Instant CREATED = Instant.parse("2025-06-01T10:00:00Z");
    private static final Instant LATER = Instant.parse("2025-06-02T08:30:00Z");

    @TempDir
    Path dir;

    private final ArrayAssembler assembler = new ArrayAssembler(Clock.fixed(LATER, ZoneOffset.UTC));

    @Test
    void shouldAssembleMembersGivenInAnyOrder() throws Exception {
        CreateResult created = create("tank", "a", "b", "c", "d", "e");
        List<Path> shuffled = List.of(path("c"), path("e"), path("a"), path("d"), path("b"));
        DirectorySnapshot before = DirectorySnapshot.of(dir);

        try (AssembledArray array = assembler.assemble(shuffled)) {
            assertThat(array.geometry()).isEqualTo(created.geometry());
            assertThat(array.memberPaths()).isEqualTo(created.members());
            assertThat(array.devices()).extracting(m -> m.describe())
                    .isEqualTo(created.members().stream().map(Path::toString).toList());
            assertThat(array.table()).extracting(MemberEntry::memberUuid).isEqualTo(created.memberUuids());
            assertThat(array.states()).containsOnly(MemberState.ACTIVE);
            assertThat(array.shutDownCleanly()).isTrue();
            assertThat(array.epoch()).isEqualTo(1);
        }
        assertThat(DirectorySnapshot.of(dir)).as("assembling only reads").isEqualTo(before);
        assertThat(openDescriptorsUnder(dir)).isZero();
    }

    @Test
    void shouldRoundTripTheCleanFlagThroughDirtyAndClean() throws Exception {
        create("tank", "a", "b", "c");
        List<Path> members = List.of(path("a"), path("b"), path("c"));

        try (AssembledArray array = assembler.assemble(members)) {
            array.markDirty();
        }
        assertThat(members).allSatisfy(m -> assertThat(readRecord(m).generation()).isEqualTo(2));
        assertThat(members).allSatisfy(m -> assertThat(readRecord(m).updated()).isEqualTo(LATER));
        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.shutDownCleanly()).isFalse();
            array.markClean();
        }
        assertThat(members).allSatisfy(m -> assertThat(readRecord(m).generation()).isEqualTo(3));
        assertThat(members).allSatisfy(m -> assertThat(readRecord(m).created()).isEqualTo(CREATED));
        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.shutDownCleanly()).isTrue();
        }
    }

    @Test
    void shouldTakeTheHighestGenerationWhenACrashStoppedAnUpdateHalfway() throws Exception {
        create("tank", "a", "b", "c");
        // A crash after markDirty reached member b only.
        try (FileMember b = FileMember.open(path("b"), false)) {
            SuperblockRecord record = Superblock.read(b).record().orElseThrow();
            Superblock.write(b, record.withClean(false).withGeneration(2, LATER));
        }
        List<Path> members = List.of(path("a"), path("b"), path("c"));

        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.shutDownCleanly()).as("one dirty member is enough").isFalse();
            array.markClean();
        }
        assertThat(members).allSatisfy(m -> assertThat(readRecord(m).generation()).isEqualTo(3));
        assertThat(readRecord(path("c")).clean()).isTrue();
    }

    @Test
    void shouldStartDegradedWithAMemberThatIsMissingUnreadableOrDamaged() throws Exception {
        create("tank", "a", "b", "c");
        Path gone = dir.resolve("gone.img");
        assertDegraded(List.of(path("a"), gone, path("c")), 1, "not given or unreadable");

        try (FileMember b = FileMember.open(path("b"), false)) {
            b.write(ByteBuffer.wrap(new byte[] {9}), 0x50, false);
            b.write(ByteBuffer.wrap(new byte[] {9}), 4096 + 0x50, false);
        }
        assertDegraded(List.of(path("a"), path("b"), path("c")), 1, "not given or unreadable");

        assumeTrue(run("chattr", "+i", path("c").toString()) == 0, "chattr +i works here");
        try {
            String refused = refusal(List.of(path("a"), path("b"), path("c")));
            assertThat(refused).as("b damaged and c unopenable: two lost, RAID-5 carries one")
                    .startsWith("array 'tank' (RAID-5) can run without 1 member, but 2 are unusable: slot 1")
                    .contains(path("b") + " has a damaged superblock (copy at 0: checksum mismatch")
                    .contains(path("c") + " cannot be opened: Operation not permitted")
                    .endsWith("find the missing members and list them, or restore them");
        } finally {
            run("chattr", "-i", path("c").toString());
        }
    }

    @Test
    void shouldRefuseMoreLossesThanTheLevelCarriesNamingTheSlots() throws Exception {
        CreateResult created = create("tank", "a", "b", "c", "d", "e");
        String refused = refusal(List.of(path("e"), path("a"), path("c")));
        assertThat(refused).startsWith("array 'tank' (RAID-5) can run without 1 member, but 2 are unusable: "
                + "slot 1 not given or unreadable (member uuid " + created.memberUuids().get(1) + "); "
                + "slot 3 not given or unreadable (member uuid " + created.memberUuids().get(3) + ")");
    }

    @Test
    void shouldRefuseADirtyArrayThatWouldStartDegradedUnlessForced() throws Exception {
        create("tank", "a", "b", "c");
        try (AssembledArray array = assembler.assemble(List.of(path("a"), path("b"), path("c")))) {
            array.markDirty(); // and then a crash: no markClean
        }
        List<Path> withoutB = List.of(path("a"), path("c"));
        assertThat(refusal(withoutB)).startsWith("array 'tank' was not shut down cleanly and runs degraded (slot 1")
                .endsWith("find the missing member, or start with --force to accept that risk");
        try (AssembledArray forced = assembler.assemble(withoutB, true)) {
            assertThat(forced.states()).containsExactly(MemberState.ACTIVE, MemberState.MISSING, MemberState.ACTIVE);
        }
    }

    @Test
    void shouldStartADirtyJournaledArrayWhoseLossWasRecordedBeforeTheCrash() throws Exception {
        create("tank", "a", "b", "c", "d");
        List<Path> all = List.of(path("a"), path("b"), path("c"), path("d"));
        try (AssembledArray array = assembler.assemble(all)) {
            array.markFaulty(1, "pwrite /b: Input/output error");
            array.markDirty(java.util.UUID.randomUUID()); // journaled, then a crash
        }
        try (AssembledArray array = assembler.assemble(all, ArrayAssembler.DirtyDegraded.JOURNAL_REPLAYS)) {
            assertThat(array.shutDownCleanly()).isFalse();
            assertThat(array.states()).containsExactly(MemberState.ACTIVE, MemberState.FAULTY, MemberState.ACTIVE,
                    MemberState.ACTIVE);
        }
        assertThat(refusal(all)).as("nothing replays: still refused").contains("was not shut down cleanly and runs degraded");
    }

    @Test
    void shouldRefuseADirtyJournaledArrayWhoseMemberVanishedWhileItWasDown() throws Exception {
        create("tank", "a", "b", "c", "d");
        try (AssembledArray array = assembler.assemble(List.of(path("a"), path("b"), path("c"), path("d")))) {
            array.markDirty(java.util.UUID.randomUUID()); // journaled, then a crash; b was fine until then
        }
        List<Path> withoutB = List.of(path("a"), path("c"), path("d"));
        assertThatThrownBy(() -> assembler.assemble(withoutB, ArrayAssembler.DirtyDegraded.JOURNAL_REPLAYS))
                .isInstanceOf(ArrayException.class)
                .hasMessageContaining("was not shut down cleanly and runs degraded (slot 1")
                .hasMessageContaining("--force");
    }

    @Test
    void shouldRefuseADirtyUnjournaledArrayEvenWithItsLossRecorded() throws Exception {
        create("tank", "a", "b", "c");
        List<Path> all = List.of(path("a"), path("b"), path("c"));
        try (AssembledArray array = assembler.assemble(all)) {
            array.markFaulty(2, "drill");
            array.markDirty(); // --no-journal, then a crash: no preimages anywhere
        }
        assertThatThrownBy(() -> assembler.assemble(all, ArrayAssembler.DirtyDegraded.JOURNAL_REPLAYS))
                .isInstanceOf(ArrayException.class)
                .hasMessageContaining("runs degraded (slot 2");
    }

    @Test
    void shouldNeverUseAMemberTheTableMarksFaultyOrMissing() throws Exception {
        create("tank", "a", "b", "c", "d");
        List<Path> all = List.of(path("a"), path("b"), path("c"), path("d"));
        try (AssembledArray array = assembler.assemble(all)) {
            array.markFaulty(1, "pwrite /b: Input/output error");
        }
        assertThat(readRecord(path("b")).generation()).as("a faulty member is never written again").isEqualTo(1);
        try (AssembledArray array = assembler.assemble(all)) {
            assertThat(array.states()).containsExactly(MemberState.ACTIVE, MemberState.FAULTY, MemberState.ACTIVE,
                    MemberState.ACTIVE);
            assertThat(array.devices().get(1)).as("faulty member not used even though it is readable").isNull();
            assertThat(array.reason(1)).isEqualTo("marked faulty; replace it");
        }
        // A member left out while the array ran degraded is stale when it comes back.
        create("pool", "p", "q", "r");
        try (AssembledArray array = assembler.assemble(List.of(path("p"), path("r")))) {
            array.markDirty();
            array.markClean();
        }
        try (AssembledArray array = assembler.assemble(List.of(path("p"), path("q"), path("r")))) {
            assertThat(array.states().get(1)).isEqualTo(MemberState.MISSING);
            assertThat(array.devices().get(1)).isNull();
            assertThat(array.reason(1)).contains("its data is stale");
        }
    }

    @Test
    void shouldRecordAMemberDeletedWhileServingAsFaultyWhenMarkedClean() throws Exception {
        create("tank", "a", "b", "c");
        List<Path> all = List.of(path("a"), path("b"), path("c"));
        try (AssembledArray array = assembler.assemble(all)) {
            array.markDirty();
            Files.delete(path("b")); // after the volume's last look: only the stop can notice
            array.markClean();
            assertThat(array.states().get(1)).isEqualTo(MemberState.FAULTY);
            assertThat(array.reason(1)).contains(path("b") + " was deleted");
        }
        SuperblockRecord a = readRecord(path("a"));
        assertThat(a.clean()).as("still a clean stop").isTrue();
        assertThat(a.members().get(1).state()).as("with the deleted member recorded faulty").isEqualTo(MemberState.FAULTY);
        try (AssembledArray array = assembler.assemble(List.of(path("a"), path("c")))) {
            assertThat(array.shutDownCleanly()).isTrue();
            assertThat(array.states().get(1)).isEqualTo(MemberState.FAULTY);
        }
    }

    @Test
    void shouldPersistARebuildSoItResumesAfterARestart() throws Exception {
        create("tank", "a", "b", "c");
        List<Path> members = List.of(path("a"), path("b"), path("c"));
        Path fresh = dir.resolve("fresh.img");
        try (AssembledArray array = assembler.assemble(members)) {
            array.markFaulty(2, "drill");
            array.beginRebuild(2, fresh, FileMember.createSparse(fresh, 4L * MIB));
            array.rebuildProgress(2, 17);
        }
        List<Path> rebuilt = List.of(path("a"), path("b"), fresh);
        try (AssembledArray array = assembler.assemble(rebuilt)) {
            assertThat(array.states().get(2)).isEqualTo(MemberState.REBUILDING);
            assertThat(array.rebuildPositions()[2]).isEqualTo(17);
            assertThat(array.devices().get(2).describe()).isEqualTo(fresh.toString());
            array.rebuildFinished(2);
        }
        try (AssembledArray array = assembler.assemble(rebuilt)) {
            assertThat(array.states()).containsOnly(MemberState.ACTIVE);
        }
        assertThat(refusal(members)).as("the replaced member is refused").contains(path("c") + " (member uuid")
                .contains("it was replaced; list the current member");
    }

    @Test
    void shouldKeepSparesInTheTableAndHandThemOut() throws Exception {
        List<Path> members = List.of(path("a"), path("b"), path("c"));
        new ArrayCreator(Clock.fixed(CREATED, ZoneOffset.UTC)).create(new CreateSpec("tank", 5, CHUNK,
                OptionalLong.of(4L * MIB), members, false, List.of(path("s1"), path("s2"))));
        List<Path> withSpares = List.of(path("s2"), path("a"), path("b"), path("c"), path("s1"));
        try (AssembledArray array = assembler.assemble(withSpares)) {
            assertThat(array.spares()).extracting(AssembledArray.Spare::path).containsExactly(path("s1"), path("s2"));
            assertThat(array.table()).extracting(MemberEntry::state).containsExactly(MemberState.ACTIVE,
                    MemberState.ACTIVE, MemberState.ACTIVE, MemberState.SPARE, MemberState.SPARE);
            array.markFaulty(0, "drill");
            AssembledArray.Spare spare = array.takeSpare().orElseThrow();
            array.beginRebuild(0, spare.path(), spare.device());
        }
        assertThat(readRecord(path("s1")).slot()).as("the first spare now holds slot 0").isZero();
        // Spare s2 is not given: it drops out of the table.
        try (AssembledArray array = assembler.assemble(List.of(path("s1"), path("b"), path("c")))) {
            assertThat(array.spares()).isEmpty();
            assertThat(array.states()).containsExactly(MemberState.REBUILDING, MemberState.ACTIVE, MemberState.ACTIVE);
            array.markDirty();
            assertThat(array.table()).hasSize(3);
        }
    }

    @Test
    void shouldNameTheSpareThatTookOverWhenTheOldMemberListClaimsItsSlotTwice() throws Exception {
        List<Path> members = List.of(path("a"), path("b"), path("c"));
        new ArrayCreator(Clock.fixed(CREATED, ZoneOffset.UTC)).create(new CreateSpec("tank", 5, CHUNK,
                OptionalLong.of(4L * MIB), members, false, List.of(path("s1"))));
        List<Path> unitFile = List.of(path("a"), path("b"), path("c"), path("s1"));
        try (AssembledArray array = assembler.assemble(unitFile)) {
            array.markFaulty(0, "drill");
            AssembledArray.Spare spare = array.takeSpare().orElseThrow();
            array.beginRebuild(0, spare.path(), spare.device());
            array.rebuildFinished(0);
        }
        SuperblockRecord current = readRecord(path("s1"));

        String refused = refusal(unitFile);

        assertThat(refused).startsWith(path("a") + " (member uuid " + readRecord(path("a")).memberUuid()
                        + ", generation 1, updated " + CREATED + ") and " + path("s1") + " (member uuid "
                        + current.memberUuid() + ", generation " + current.generation() + ", updated " + LATER
                        + ") both claim slot 0 of array 'tank'; the newest member table (generation "
                        + current.generation() + ", on ")
                .endsWith(") lists " + path("s1") + " there: " + path("a") + " was replaced (by a spare, or with"
                        + " `parityd replace`); list " + path("s1") + " and leave out " + path("a"));
    }

    @Test
    void shouldStartAFailedArrayWithForceFromTheMembersThatDroppedOutLast() throws Exception {
        create("tank", "a", "b", "c", "d");
        List<Path> members = List.of(path("a"), path("b"), path("c"), path("d"));
        try (AssembledArray array = assembler.assemble(members)) {
            array.markFaulty(1, "drill"); // b's own superblock stays at generation 1
            array.markFaulty(2, "drill"); // c's stays at generation 2: it dropped out last
        }
        assertThat(refusal(members)).contains("can run without 1 member, but 2 are unusable");

        try (AssembledArray array = assembler.assemble(members, ArrayAssembler.DirtyDegraded.FORCE)) {
            assertThat(array.states()).containsExactly(MemberState.ACTIVE, MemberState.FAULTY, MemberState.ACTIVE,
                    MemberState.ACTIVE);
            assertThat(array.devices().get(2).describe()).isEqualTo(path("c").toString());
            array.markDirty(); // what serve does first: the decision is written down
            array.markClean();
        }
        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.states()).as("the next start needs no --force")
                    .containsExactly(MemberState.ACTIVE, MemberState.FAULTY, MemberState.ACTIVE, MemberState.ACTIVE);
        }
    }

    @Test
    void shouldForceBackTheFreshestMemberGivenButNeverOneBeingRebuilt() throws Exception {
        create("tank", "a", "b", "c", "d");
        List<Path> members = List.of(path("a"), path("b"), path("c"), path("d"));
        try (AssembledArray array = assembler.assemble(members)) {
            array.markFaulty(1, "drill");
            array.markFaulty(2, "drill");
        }
        try (AssembledArray array = assembler.assemble(List.of(path("a"), path("b"), path("d")),
                ArrayAssembler.DirtyDegraded.FORCE)) {
            assertThat(array.states()).as("c is not given, so b, the freshest given, is trusted (as mdadm would)")
                    .containsExactly(MemberState.ACTIVE, MemberState.ACTIVE, MemberState.FAULTY, MemberState.ACTIVE);
        }

        create("other", "e", "f", "g", "h");
        List<Path> others = List.of(path("e"), path("f"), path("g"), path("h"));
        Path fresh = dir.resolve("fresh.img");
        try (RandomAccessFile f = new RandomAccessFile(fresh.toFile(), "rw")) {
            f.setLength(4L * MIB);
        }
        try (AssembledArray array = assembler.assemble(others)) {
            array.markFaulty(1, "drill");
            array.beginRebuild(1, fresh, FileMember.open(fresh, false));
        }
        assertThatThrownBy(() -> assembler.assemble(List.of(path("e"), fresh, path("h")),
                ArrayAssembler.DirtyDegraded.FORCE)).as("slot 1 is being rebuilt and g is not given: a rebuilding"
                        + " member holds data only up to its position, so it is never trusted")
                .hasMessageContaining("can run without 1 member, but 2 are unusable");
    }

    @Test
    void shouldFailAMemberWhoseSuperblockCannotBeWritten() throws Exception {
        create("tank", "a", "b", "c");
        List<Integer> hooked = new ArrayList<>();
        try (AssembledArray array = assembler.assemble(List.of(path("a"), path("b"), path("c")))) {
            // Replace slot 1's device by one whose writes fail, as a dying disk's would.
            FailingWrites failing = new FailingWrites(array.devices().get(1));
            AssembledArray broken = new AssembledArray(array.geometry(), readRecord(path("a")),
                    new io.parityd.block.BlockDevice[] {array.devices().get(0), failing, array.devices().get(2)},
                    array.memberPaths().toArray(Path[]::new), new String[3], array.table(), List.of(), true,
                    Clock.fixed(LATER, ZoneOffset.UTC));
            broken.onWriteFailure(hooked::add);
            broken.markDirty();
            assertThat(broken.states()).containsExactly(MemberState.ACTIVE, MemberState.FAULTY, MemberState.ACTIVE);
            assertThat(broken.reason(1)).isEqualTo("its superblock could not be written");
        }
        assertThat(hooked).containsExactly(1);
        assertThat(readRecord(path("a")).members().get(1).state()).isEqualTo(MemberState.FAULTY);
    }

    /** Passes everything through but fails every write, like a disk that stopped accepting them. */
    private static final class FailingWrites extends io.parityd.block.ForwardingDevice {

        FailingWrites(io.parityd.block.BlockDevice inner) {
            super(inner);
        }

        @Override
        public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
            throw new IOException("pwrite " + describe() + ": Input/output error");
        }

        @Override
        public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
            throw new IOException("fallocate " + describe() + ": Input/output error");
        }

        @Override
        public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
            return true;
        }

        @Override
        public void trim(long offset, long length, boolean fua) {
        }

        @Override
        public void close() {
        }
    }

    private void assertDegraded(List<Path> members, int slot, String reason) throws Exception {
        DirectorySnapshot before = DirectorySnapshot.of(dir);
        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.states().get(slot)).isEqualTo(MemberState.MISSING);
            assertThat(array.devices().get(slot)).isNull();
            assertThat(array.reason(slot)).contains(reason);
        }
        assertThat(DirectorySnapshot.of(dir)).as("assembling only reads").isEqualTo(before);
        assertThat(openDescriptorsUnder(dir)).isZero();
    }

    @Test
    void shouldRefuseAnEmptyList() throws Exception {
        assertRefused(List.of(), "no members given; list the array's member files");
    }

    @Test
    void shouldRefuseAFileWithoutSuperblock() throws Exception {
        create("tank", "a", "b", "c");
        Path plain = Files.write(dir.resolve("plain.img"), new byte[4 * MIB]);
        assertRefused(List.of(path("a"), path("b"), plain), plain + " holds no parityd superblock, and array 'tank'"
                + " has no member for slot 2 (not given); if " + plain + " was that member (truncated or overwritten),"
                + " leave it off the command line to start the array degraded without it: parityd serve " + path("a")
                + " " + path("b") + " (with your other options), then put a new member in its place: parityd replace 2"
                + " NEW-MEMBER; if it is not, check the path");
    }

    @Test
    void shouldSayHowToStartWithoutAFaultyMemberThatLostItsSuperblock() throws Exception {
        create("tank", "a", "b", "c");
        List<Path> all = List.of(path("a"), path("b"), path("c"));
        try (AssembledArray array = assembler.assemble(all)) {
            array.markFaulty(1, "short read (was it truncated?)"); // as the truncation was noticed while serving
        }
        try (RandomAccessFile b = new RandomAccessFile(path("b").toFile(), "rw")) {
            b.setLength(0);
        }
        assertThat(refusal(all)).startsWith(path("b") + " holds no parityd superblock, and array 'tank' has no member"
                + " for slot 1 (marked faulty)").contains("leave it off the command line to start the array degraded"
                + " without it: parityd serve " + path("a") + " " + path("c") + " (with your other options)")
                .contains("parityd replace 1 NEW-MEMBER");
        try (AssembledArray array = assembler.assemble(List.of(path("a"), path("c")))) {
            assertThat(array.states().get(1)).as("the command it gave works").isEqualTo(MemberState.FAULTY);
        }
    }

    @Test
    void shouldStartWithoutAFaultyMemberThatShrank() throws Exception {
        create("tank", "a", "b", "c");
        List<Path> all = List.of(path("a"), path("b"), path("c"));
        try (AssembledArray array = assembler.assemble(all)) {
            array.markFaulty(1, "short read (was it truncated?)");
        }
        try (RandomAccessFile b = new RandomAccessFile(path("b").toFile(), "rw")) {
            b.setLength(2L * MIB); // its superblock survives, its data does not
        }
        try (AssembledArray array = assembler.assemble(all)) {
            assertThat(array.states().get(1)).as("not used, so its size does not matter").isEqualTo(MemberState.FAULTY);
            assertThat(array.devices().get(1)).isNull();
        }
        assertThat(openDescriptorsUnder(dir)).isZero();
    }

    @Test
    void shouldRefuseANewerFormat() throws Exception {
        create("tank", "a", "b", "c");
        try (FileMember c = FileMember.open(path("c"), false)) {
            c.write(ByteBuffer.wrap(new byte[] {2}), 4096 + 8, false);
        }
        assertRefused(List.of(path("a"), path("b"), path("c")), path("c") + " has a superblock of format 2,"
                + " newer than this parityd understands (1); use the parityd version that wrote it");
    }

    @Test
    void shouldRefuseAMemberOfAnotherArrayNamingBoth() throws Exception {
        CreateResult one = create("one", "a", "b", "c");
        CreateResult two = create("two", "d", "e", "f");

        assertRefused(List.of(path("a"), path("e"), path("b")), path("e") + " belongs to array 'two' (uuid "
                + two.geometry().arrayUuid() + "), not to array 'one' (uuid " + one.geometry().arrayUuid()
                + ") like 2 of the given members; list the members of one array only");
        assertRefused(List.of(path("e"), path("a")), path("a") + " belongs to array 'one' (uuid "
                + one.geometry().arrayUuid() + "), not to array 'two' (uuid " + two.geometry().arrayUuid()
                + ") like the first member listed; list the members of one array only");
    }

    @Test
    void shouldRefuseAnArrayWhoseCreateWasInterruptedInItsFirstPass() throws Exception {
        CreateResult created = create("tank", "a", "b", "c");
        // What a kill in create's first pass leaves: a stamped CREATING, b and c not reached yet.
        restamp(path("a"), r -> r.withCreating(true));
        eraseSuperblock(path("b"));
        eraseSuperblock(path("c"));
        String interrupted = "array 'tank' (uuid " + created.geometry().arrayUuid() + ") was never completely"
                + " created: create was interrupted before it had written every member";

        assertThat(refusal(List.of(path("a"), path("b"), path("c")))).startsWith(interrupted
                + " (1 of 3 given here: " + path("a") + "); run the same `parityd create` again");
        assertThat(refusal(List.of(path("a")))).as("listing only what was stamped is no way round it")
                .startsWith(interrupted);
        assertThatThrownBy(() -> ArrayProbe.of(List.of(path("a"), path("b"))))
                .as("an HA controller's probe refuses it too").hasMessageStartingWith(interrupted);
    }

    @Test
    void shouldStartAWholeArrayWhenCreateWasInterruptedInItsSecondPass() throws Exception {
        create("tank", "a", "b", "c");
        // A kill in the second pass: a and b final, c still CREATING (all generation 1).
        restamp(path("c"), r -> r.withCreating(true));

        try (AssembledArray array = assembler.assemble(List.of(path("a"), path("b"), path("c")))) {
            assertThat(array.states()).as("every member was stamped in the first pass").containsOnly(MemberState.ACTIVE);
            array.markDirty();
        }
        assertThat(readRecord(path("c")).creating()).as("the next update rewrites the older generation").isFalse();
        assertThat(readRecord(path("c")).generation()).isEqualTo(2);
    }

    private static void restamp(Path member, java.util.function.UnaryOperator<SuperblockRecord> change)
            throws IOException {
        try (FileMember device = FileMember.open(member, false)) {
            Superblock.writeBoth(device, change.apply(Superblock.read(device).record().orElseThrow()));
        }
    }

    private static void eraseSuperblock(Path member) throws IOException {
        try (FileMember device = FileMember.open(member, false)) {
            Superblock.erase(device);
        }
    }

    @Test
    void shouldRefuseTwoMembersClaimingOneSlot() throws Exception {
        create("tank", "a", "b", "c");
        Path copy = Files.copy(path("a"), dir.resolve("a-backup.img"), StandardCopyOption.COPY_ATTRIBUTES);
        String evidence = " (member uuid " + readRecord(path("a")).memberUuid() + ", generation 1, updated "
                + CREATED + ")";
        assertRefused(List.of(path("a"), copy, path("c")), path("a") + evidence + " and " + copy + evidence
                + " both claim slot 0 of array 'tank': they are copies of one member, at the same generation;"
                + " list only one of them");
        try (AssembledArray array = assembler.assemble(List.of(path("a"), path("b"), path("c")))) {
            array.markDirty(); // a moves on to generation 2; the copy stays behind
        }
        assertThat(refusal(List.of(copy, path("a"), path("b")))).endsWith(": they are copies of one member, and "
                + path("a") + " is the newer (" + copy + " is an old copy: its data is stale); list " + path("a")
                + " and leave out " + copy);
    }

    @Test
    void shouldRefuseToStartWhileAnotherWriterHoldsAMemberInsteadOfStartingWithoutIt() throws Exception {
        create("tank", "a", "b", "c", "d");
        List<Path> all = List.of(path("a"), path("b"), path("c"), path("d"));
        try (io.parityd.block.BlockDevice other = io.parityd.member.Members.open(path("c"), false)) { // another serve, say
            ArrayException refused = catchThrowableOfType(() -> assembler.assemble(all), ArrayException.class);
            assertThat(refused).as("a RAID-5 could start without c; it must not").isNotNull();
            assertThat(refused.getMessage()).startsWith(path("c") + ": in use: another process holds it for writing");
            assertThat(refused.fix()).contains("stop the other process first");
        }
        try (AssembledArray array = assembler.assemble(all)) {
            assertThat(array.states()).as("once the other writer is gone").containsOnly(MemberState.ACTIVE);
        }
    }

    @Test
    void shouldRefuseTheSameFileTwiceUnderTwoSpellings() throws Exception {
        create("tank", "a", "b", "c");
        Path link = Files.createSymbolicLink(dir.resolve("link.img"), path("b"));
        assertRefused(List.of(path("a"), path("b"), link), path("b") + " and " + link + " are the same file"
                + " (members 2 and 3); list each member file once");
    }

    @Test
    void shouldRefuseGeometryThatDisagreesNamingFieldValuesAndMembers() throws Exception {
        create("tank", "a", "b", "c");
        try (FileMember c = FileMember.open(path("c"), false)) {
            SuperblockRecord r = Superblock.read(c).record().orElseThrow();
            ArrayGeometry g = r.geometry();
            ArrayGeometry other = new ArrayGeometry(g.arrayUuid(), g.name(), 5, 2 * CHUNK, 3, g.dataOffset(),
                    g.memberDataSize());
            Superblock.write(c, new SuperblockRecord(2, other, r.memberUuid(), r.slot(), r.epoch(), r.created(),
                    LATER, r.flags(), r.members()));
        }
        assertRefused(List.of(path("a"), path("b"), path("c")), "members of array 'tank' disagree on chunk size: "
                + path("c") + " says 131072, " + path("a") + " says 65536; one superblock was altered or comes"
                + " from another parityd; restore the right member before serving");
    }

    @Test
    void shouldRefuseAMemberThatWasReplaced() throws Exception {
        CreateResult created = create("tank", "a", "b", "c");
        UUID stranger = UUID.fromString("00000000-0000-4000-8000-000000000042");
        try (FileMember b = FileMember.open(path("b"), false)) {
            SuperblockRecord r = Superblock.read(b).record().orElseThrow();
            List<MemberEntry> table = new ArrayList<>(r.members());
            table.set(1, MemberEntry.active(stranger));
            Superblock.writeBoth(b, new SuperblockRecord(1, r.geometry(), stranger, 1, 1, r.created(), r.updated(),
                    r.flags(), table));
        }
        assertRefused(List.of(path("a"), path("b"), path("c")), path("b") + " (member uuid " + stranger
                + ", generation 1, updated " + CREATED + ") claims slot 1, but the newest member table (generation 1,"
                + " on " + path("a") + ") lists member uuid " + created.memberUuids().get(1) + " there; it was"
                + " replaced; list the current member (`parityd examine` shows each file's member uuid) instead of "
                + path("b"));
    }

    @Test
    void shouldRefuseAMemberSmallerThanTheGeometryNeeds() throws Exception {
        create("tank", "a", "b", "c");
        try (RandomAccessFile b = new RandomAccessFile(path("b").toFile(), "rw")) {
            b.setLength(2L * MIB);
        }
        assertRefused(List.of(path("a"), path("b"), path("c")), path("b") + " is 2 MiB (2097152 bytes) but"
                + " array 'tank' needs 4 MiB (4194304 bytes) on each member; was it truncated? restore it to its"
                + " full size, or leave it off the command line to start the array degraded without it: parityd serve "
                + path("a") + " " + path("c") + " (with your other options), then put a new member in its place:"
                + " parityd replace 1 NEW-MEMBER");
    }

    /** Asserts the exact message, that no member changed, and that nothing was left open. */
    private void assertRefused(List<Path> members, String message) throws IOException {
        assertThat(refusal(members)).isEqualTo(message);
    }

    private String refusal(List<Path> members) throws IOException {
        DirectorySnapshot before = DirectorySnapshot.of(dir);
        ArrayException refused = catchThrowableOfType(() -> assembler.assemble(members), ArrayException.class);
        assertThat(refused).as("assembly refused").isNotNull();
        assertThat(DirectorySnapshot.of(dir)).as("nothing written").isEqualTo(before);
        assertThat(openDescriptorsUnder(dir)).as("every member closed").isZero();
        return refused.getMessage();
    }

    private CreateResult create(String name, String... members) throws ArrayException {
        List<Path> paths = Arrays.stream(members).map(this::path).toList();
        return new ArrayCreator(Clock.fixed(CREATED, ZoneOffset.UTC))
                .create(new CreateSpec(name, 5, CHUNK, OptionalLong.of(4L * MIB), paths, false));
    }

    private Path path(String name) {
        return dir.resolve(name + ".img");
    }

    /** This process's descriptors open on anything under {@code root}, from /proc/self/fd. */
    private static long openDescriptorsUnder(Path root) throws IOException {
        Path real = root.toRealPath();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).startsWith(real);
                } catch (IOException gone) {
                    return false; // the descriptor list changes while we walk it
                }
            }).count();
        }
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getInputStream().readAllBytes();
        return process.waitFor(30, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }
}
