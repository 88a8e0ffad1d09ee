package io.parityd.raid;

import static io.parityd.raid.ArrayCreatorTest.readRecord;
import static org.assertj.core.api.Assertions.assertThat;
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
            assertThat(array.members()).extracting(m -> m.describe())
                    .isEqualTo(created.members().stream().map(Path::toString).toList());
            assertThat(array.superblocks()).extracting(SuperblockRecord::slot).containsExactly(0, 1, 2, 3, 4);
            assertThat(array.superblocks()).extracting(SuperblockRecord::memberUuid)
                    .isEqualTo(created.memberUuids());
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
        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.shutDownCleanly()).isFalse();
            assertThat(array.superblocks()).extracting(SuperblockRecord::generation).containsOnly(2L);
            assertThat(array.superblocks()).extracting(SuperblockRecord::updated).containsOnly(LATER);
            array.markClean();
        }
        try (AssembledArray array = assembler.assemble(members)) {
            assertThat(array.shutDownCleanly()).isTrue();
            assertThat(array.superblocks()).extracting(SuperblockRecord::generation).containsOnly(3L);
            assertThat(array.superblocks()).extracting(SuperblockRecord::created).containsOnly(CREATED);
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
            assertThat(array.superblocks()).extracting(SuperblockRecord::generation).containsExactly(1L, 2L, 1L);
            array.markClean();
            assertThat(array.superblocks()).extracting(SuperblockRecord::generation).containsOnly(3L);
        }
        assertThat(readRecord(path("a")).generation()).isEqualTo(3);
        assertThat(readRecord(path("c")).clean()).isTrue();
    }

    @Test
    void shouldRefuseAnEmptyList() throws Exception {
        assertRefused(List.of(), "no members given; list the array's member files");
    }

    @Test
    void shouldRefuseAMissingFile() throws Exception {
        create("tank", "a", "b", "c");
        Path gone = dir.resolve("gone.img");
        assertRefused(List.of(path("a"), gone, path("c")), "member " + gone + " does not exist; check the path");
    }

    @Test
    void shouldRefuseAFileItCannotOpen() throws Exception {
        create("tank", "a", "b", "c");
        assumeTrue(run("chattr", "+i", path("c").toString()) == 0, "chattr +i works here");
        try {
            assertRefused(List.of(path("a"), path("b"), path("c")),
                    "cannot open member " + path("c") + ": Operation not permitted;"
                            + " check the file and its permissions");
        } finally {
            run("chattr", "-i", path("c").toString());
        }
    }

    @Test
    void shouldRefuseAFileWithoutSuperblock() throws Exception {
        create("tank", "a", "b", "c");
        Path plain = Files.write(dir.resolve("plain.img"), new byte[4 * MIB]);
        assertRefused(List.of(path("a"), path("b"), plain), plain + " holds no parityd superblock;"
                + " was it created with `parityd create`? check the path");
    }

    @Test
    void shouldRefuseADamagedSuperblock() throws Exception {
        create("tank", "a", "b", "c");
        try (FileMember b = FileMember.open(path("b"), false)) {
            b.write(ByteBuffer.wrap(new byte[] {9}), 0x50, false);
            b.write(ByteBuffer.wrap(new byte[] {9}), 4096 + 0x50, false);
        }
        String message = refusal(List.of(path("a"), path("b"), path("c")));
        assertThat(message).startsWith(path("b") + " has a damaged superblock: both copies fail their checks"
                + " (copy at 0: checksum mismatch").contains("copy at 4096: checksum mismatch")
                .endsWith("; leave it out to run without it once degraded mode arrives, or restore the member");
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
    void shouldRefuseTwoMembersClaimingOneSlot() throws Exception {
        create("tank", "a", "b", "c");
        Path copy = Files.copy(path("a"), dir.resolve("a-backup.img"), StandardCopyOption.COPY_ATTRIBUTES);
        assertRefused(List.of(path("a"), copy, path("c")), path("a") + " and " + copy + " both claim slot 0 of"
                + " array 'tank'; one is a copy or a replaced member; list only the one in use");
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
    void shouldRefuseALevelThisReleaseCannotServe() throws Exception {
        create("tank", "a", "b", "c");
        for (String name : new String[] {"a", "b", "c"}) {
            try (FileMember m = FileMember.open(path(name), false)) {
                SuperblockRecord r = Superblock.read(m).record().orElseThrow();
                ArrayGeometry g = r.geometry();
                ArrayGeometry raid4 = new ArrayGeometry(g.arrayUuid(), g.name(), 4, g.chunkSize(), 3,
                        g.dataOffset(), g.memberDataSize());
                Superblock.write(m, new SuperblockRecord(2, raid4, r.memberUuid(), r.slot(), 1, r.created(),
                        LATER, r.flags(), r.members()));
            }
        }
        assertRefused(List.of(path("a"), path("b"), path("c")), "array 'tank' is RAID-4, which arrives in a later"
                + " release; serve it with a parityd that supports that level");
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
                + ") claims slot 1, but array 'tank' lists member uuid " + created.memberUuids().get(1)
                + " there; it was replaced; list the current member");
    }

    @Test
    void shouldRefuseAMemberSmallerThanTheGeometryNeeds() throws Exception {
        create("tank", "a", "b", "c");
        try (RandomAccessFile b = new RandomAccessFile(path("b").toFile(), "rw")) {
            b.setLength(2L * MIB);
        }
        assertRefused(List.of(path("a"), path("b"), path("c")), path("b") + " is 2 MiB (2097152 bytes) but"
                + " array 'tank' needs 4 MiB (4194304 bytes) on each member; was it truncated? restore it to its"
                + " full size or replace the member");
    }

    @Test
    void shouldRefuseMissingMembersNamingTheirSlots() throws Exception {
        CreateResult created = create("tank", "a", "b", "c", "d", "e");
        assertRefused(List.of(path("e"), path("a"), path("c"), path("b")), "array 'tank' has 5 members but only 4"
                + " were given; missing slot 3 (member uuid " + created.memberUuids().get(3) + "); add the missing"
                + " member's path (running degraded arrives in a later release)");
    }

    @Test
    void shouldRefuseMoreMembersThanTheArrayHas() throws Exception {
        create("tank", "a", "b", "c");
        Path copy = Files.copy(path("a"), dir.resolve("a-backup.img"));
        assertRefused(List.of(path("a"), path("b"), path("c"), copy),
                "array 'tank' has 3 members but 4 were given; list only the array's member files");
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
