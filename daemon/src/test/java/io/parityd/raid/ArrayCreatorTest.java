package io.parityd.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.parityd.member.FileMember;
import io.parityd.raid.SuperblockRead.Status;

class ArrayCreatorTest {

    private static final int MIB = 1 << 20;
    private static final int CHUNK = 64 * 1024;
    private static final Instant NOW = Instant.parse("2025-06-01T10:00:00Z");

    @TempDir
    Path dir;

    private final ArrayCreator creator = new ArrayCreator(Clock.fixed(NOW, ZoneOffset.UTC));

    @Test
    void shouldCreateThreeSparseMembersWithASuperblockInEachSlot() throws Exception {
        List<Path> paths = paths("a.img", "b.img", "c.img");

        CreateResult result = creator.create(spec(paths, OptionalLong.of(8L * MIB)));

        ArrayGeometry g = result.geometry();
        assertThat(g.name()).isEqualTo("tank");
        assertThat(g.level()).isEqualTo(5);
        assertThat(g.chunkSize()).isEqualTo(CHUNK);
        assertThat(g.memberCount()).isEqualTo(3);
        assertThat(g.dataOffset()).isEqualTo(MIB);
        assertThat(g.memberDataSize()).isEqualTo(7L * MIB);
        assertThat(result.warnings()).isEmpty();
        assertThat(result.members()).isEqualTo(paths);
        for (int slot = 0; slot < 3; slot++) {
            assertThat(Files.size(paths.get(slot))).isEqualTo(8L * MIB);
            SuperblockRecord record = readRecord(paths.get(slot));
            assertThat(record.geometry()).isEqualTo(g);
            assertThat(record.slot()).isEqualTo(slot);
            assertThat(record.memberUuid()).isEqualTo(result.memberUuids().get(slot));
            assertThat(record.generation()).isEqualTo(1);
            assertThat(record.creating()).isFalse();
            assertThat(record.epoch()).isEqualTo(1);
            assertThat(record.clean()).isTrue();
            assertThat(record.created()).isEqualTo(NOW);
            assertThat(record.members()).extracting(MemberEntry::memberUuid).isEqualTo(result.memberUuids());
            assertThat(record.members()).extracting(MemberEntry::state).containsOnly(MemberState.ACTIVE);
            assertThat(bothCopiesGeneration(paths.get(slot))).containsExactly(1L, 1L);
        }
        assertThat(dataArea(paths.get(0), g)).containsOnly((byte) 0);
    }

    @Test
    void shouldCreateFiveMembersMixingNewFilesAndExistingOnesWhoseDataItZeroes() throws Exception {
        Path old1 = existing("old1.img", 6 * MIB);
        Path old2 = existing("old2.img", 6 * MIB);
        List<Path> paths = List.of(dir.resolve("n1.img"), old1, dir.resolve("n2.img"), old2, dir.resolve("n3.img"));

        CreateResult result = creator.create(spec(paths, OptionalLong.of(6L * MIB)));

        assertThat(result.geometry().memberCount()).isEqualTo(5);
        assertThat(result.geometry().memberDataSize()).isEqualTo(5L * MIB);
        for (int slot = 0; slot < 5; slot++) {
            assertThat(readRecord(paths.get(slot)).slot()).isEqualTo(slot);
            assertThat(dataArea(paths.get(slot), result.geometry())).as("slot %d data", slot).containsOnly((byte) 0);
        }
        assertThat(allocatedBlocks(dir.resolve("n1.img"))).as("new member stays sparse").isLessThan(64);
        for (String name : List.of("n1.img", "n2.img", "n3.img")) {
            assertThat(mode(dir.resolve(name))).as("%s, created here", name).isEqualTo("rw-------");
        }
        assertThat(mode(old1)).as("an existing member keeps its mode").isEqualTo(mode(old2)).isEqualTo("rw-r--r--");
    }

    private static String mode(Path path) throws IOException {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    @Test
    void shouldUseTheSmallestMemberAndSayHowMuchGoesUnused() throws Exception {
        List<Path> paths = List.of(existing("big.img", 10 * MIB), existing("small.img", 8 * MIB),
                existing("bigger.img", 12 * MIB));

        CreateResult result = creator.create(spec(paths, OptionalLong.empty()));

        assertThat(result.geometry().memberDataSize()).isEqualTo(7L * MIB);
        assertThat(result.warnings()).containsExactly("members differ in size; every member uses as much as the"
                + " smallest, " + paths.get(1) + " (8 MiB (8388608 bytes)): " + paths.get(0) + " leaves 2 MiB"
                + " (2097152 bytes) unused, " + paths.get(2) + " leaves 4 MiB (4194304 bytes) unused");
        assertThat(Files.size(paths.get(2))).isEqualTo(12L * MIB);
    }

    @Test
    void shouldWarnThatSizeDoesNotResizeAnExistingFile() throws Exception {
        Path old = existing("old.img", 10 * MIB);
        List<Path> paths = List.of(old, dir.resolve("b.img"), dir.resolve("c.img"));

        CreateResult result = creator.create(spec(paths, OptionalLong.of(8L * MIB)));

        assertThat(result.warnings()).first().asString().isEqualTo(old + " already exists with 10 MiB"
                + " (10485760 bytes); --size applies only to members that do not exist yet, so it is used as it is");
        assertThat(Files.size(old)).isEqualTo(10L * MIB);
    }

    @Test
    void shouldOverwriteAnotherArraysMemberOnlyWithForce() throws Exception {
        List<Path> paths = paths("a.img", "b.img", "c.img");
        CreateResult first = creator.create(spec(paths, OptionalLong.of(8L * MIB)));
        CreateSpec again = new CreateSpec("tank2", 5, CHUNK, OptionalLong.empty(), paths, true);

        CreateResult second = creator.create(again);

        assertThat(second.geometry().arrayUuid()).isNotEqualTo(first.geometry().arrayUuid());
        assertThat(readRecord(paths.get(1)).geometry().name()).isEqualTo("tank2");
        assertThat(second.warnings()).contains("--force: overwrote " + paths.get(1) + ", which held array 'tank'"
                + " (uuid " + first.geometry().arrayUuid() + ") as slot 1");
    }

    @Test
    void shouldOverwriteWhatAnInterruptedCreateLeftWithoutForce() throws Exception {
        List<Path> paths = paths("a.img", "b.img", "c.img");
        CreateResult first = creator.create(spec(paths, OptionalLong.of(8L * MIB)));
        // A kill in the first pass: a stamped CREATING, b and c blank.
        try (FileMember a = FileMember.open(paths.get(0), false)) {
            Superblock.writeBoth(a, readRecord(paths.get(0)).withCreating(true));
        }
        for (Path blank : paths.subList(1, 3)) {
            try (FileMember member = FileMember.open(blank, false)) {
                Superblock.erase(member);
            }
        }

        CreateResult again = creator.create(spec(paths, OptionalLong.empty()));

        assertThat(again.geometry().arrayUuid()).isNotEqualTo(first.geometry().arrayUuid());
        assertThat(again.warnings()).contains("overwrote " + paths.get(0) + ", which held array 'tank' (uuid "
                + first.geometry().arrayUuid() + ") as slot 0 from a create that was interrupted");
        assertThat(paths).allSatisfy(p -> assertThat(readRecord(p).creating()).isFalse());
    }

    @Test
    void shouldRefuseFewerThanThreeMembers() throws Exception {
        List<Path> paths = paths("a.img", "b.img");

        assertRefused(spec(paths, OptionalLong.of(8L * MIB)), "RAID-5 needs at least 3 members, got 2: "
                + paths.get(0) + ", " + paths.get(1) + "; list at least three member files");
    }

    @Test
    void shouldRefuseMoreMembersThanTheSuperblockHolds() throws Exception {
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < 65; i++) {
            paths.add(dir.resolve("m" + i + ".img"));
        }
        assertRefused(spec(paths, OptionalLong.of(8L * MIB)),
                "an array takes at most 64 members and spares, got 65; list at most 64 files");
    }

    @Test
    void shouldRefuseUnknownLevelsAndTooFewMembersForTheLevel() throws Exception {
        List<Path> paths = paths("a.img", "b.img", "c.img");
        assertRefused(new CreateSpec("tank", 6, CHUNK, OptionalLong.of(8L * MIB), paths, false),
                "RAID-6 needs at least 4 members, got 3: " + paths.get(0) + ", " + paths.get(1) + ", " + paths.get(2)
                        + "; list at least four member files");
        assertRefused(new CreateSpec("tank", 7, CHUNK, OptionalLong.of(8L * MIB), paths, false),
                "RAID-7 is not a RAID level parityd knows; use --level 0, 1, 4, 5 or 6");
        assertRefused(new CreateSpec("tank", 1, CHUNK, OptionalLong.of(8L * MIB), paths.subList(0, 1), false),
                "RAID-1 needs at least 2 members, got 1: " + paths.get(0) + "; list at least two member files");
    }

    @Test
    void shouldWriteSparesAsTableRowsPastTheSlots() throws Exception {
        List<Path> paths = paths("a.img", "b.img", "c.img");
        CreateResult created = new ArrayCreator(Clock.fixed(Instant.EPOCH, ZoneOffset.UTC)).create(new CreateSpec(
                "tank", 5, CHUNK, OptionalLong.of(8L * MIB), paths, false, paths("s.img")));
        SuperblockRecord spare = readRecord(dir.resolve("s.img"));
        assertThat(spare.slot()).isEqualTo(3);
        assertThat(spare.isSpare()).isTrue();
        assertThat(spare.members()).extracting(MemberEntry::state).containsExactly(MemberState.ACTIVE,
                MemberState.ACTIVE, MemberState.ACTIVE, MemberState.SPARE);
        assertThat(created.memberUuids()).hasSize(3);
        assertThat(readRecord(paths.get(0)).members()).hasSize(4);
    }

    @Test
    void shouldRefuseASpareTooSmallToReplaceAMember() throws Exception {
        List<Path> paths = paths("a.img", "b.img", "c.img");
        Path small = Files.write(dir.resolve("small.img"), new byte[2 * MIB]);
        assertRefused(new CreateSpec("tank", 5, CHUNK, OptionalLong.of(8L * MIB), paths, false, List.of(small)),
                "spare " + small + " is 2 MiB (2097152 bytes) but each member of this array uses 8 MiB (8388608 bytes);"
                        + " use a spare at least as large as the members");
    }

    @Test
    void shouldRefuseAChunkThatIsNotAPowerOfTwoOfAtLeast4K() throws Exception {
        List<Path> paths = paths("a.img", "b.img", "c.img");
        for (int chunk : new int[] {3000, 2048, 98304, 0, -4096}) {
            assertRefused(new CreateSpec("tank", 5, chunk, OptionalLong.of(8L * MIB), paths, false),
                    "chunk size " + chunk + " is not a power of two of at least 4 KiB; give --chunk as a power"
                            + " of two of at least 4096 bytes, such as 65536 or 524288");
        }
    }

    @Test
    void shouldRefuseNamesThatCannotBeAnExportName() throws Exception {
        List<Path> paths = paths("a.img", "b.img", "c.img");
        for (String name : new String[] {"", "my vol", "tank/1", "x".repeat(65), "tänk"}) {
            assertRefused(new CreateSpec(name, 5, CHUNK, OptionalLong.of(8L * MIB), paths, false),
                    "array name '" + name + "' is not valid (it becomes the NBD export name);"
                            + " use 1-64 characters from A-Z a-z 0-9 . _ -");
        }
    }

    @Test
    void shouldRefuseTheSameNewPathTwice() throws Exception {
        Path a = dir.resolve("a.img");
        assertRefused(spec(List.of(a, dir.resolve("b.img"), a), OptionalLong.of(8L * MIB)),
                a + " is listed twice (members 1 and 3); list each member file once");
    }

    @Test
    void shouldRefuseOneNewFileSpelledTwoWays() throws Exception {
        Path plain = dir.resolve("a.img");
        Path dotted = dir.resolve("./a.img");
        Files.createDirectory(dir.resolve("real"));
        Path viaLinkedDir = Files.createSymbolicLink(dir.resolve("linked"), dir.resolve("real")).resolve("n.img");

        assertRefused(spec(List.of(plain, dir.resolve("b.img"), dotted), OptionalLong.of(8L * MIB)),
                plain + " and " + dotted + " are the same file (members 1 and 3); list each member file once");
        assertRefused(spec(List.of(dir.resolve("real/n.img"), viaLinkedDir, plain), OptionalLong.of(8L * MIB)),
                dir.resolve("real/n.img") + " and " + viaLinkedDir + " are the same file (members 1 and 2)");
    }

    @Test
    void shouldRefuseOneExistingFileReachedBySymlinkOrHardLink() throws Exception {
        Path a = existing("a.img", 8 * MIB);
        Path symlink = Files.createSymbolicLink(dir.resolve("link.img"), a);
        Path hardLink = Files.createLink(dir.resolve("hard.img"), a);
        Path b = existing("b.img", 8 * MIB);

        assertRefused(spec(List.of(a, b, symlink), OptionalLong.empty()),
                a + " and " + symlink + " are the same file (members 1 and 3); list each member file once");
        assertRefused(spec(List.of(b, hardLink, a), OptionalLong.empty()),
                hardLink + " and " + a + " are the same file (members 2 and 3); list each member file once");
    }

    @Test
    void shouldRefuseAMemberOfAnotherArrayWithoutForce() throws Exception {
        List<Path> old = paths("a.img", "b.img", "c.img");
        CreateResult existingArray = creator.create(new CreateSpec("old", 5, CHUNK, OptionalLong.of(8L * MIB), old,
                false));
        List<Path> paths = List.of(dir.resolve("x.img"), old.get(2), dir.resolve("y.img"));

        assertRefused(spec(paths, OptionalLong.of(8L * MIB)), old.get(2) + " already belongs to array 'old' (uuid "
                + existingArray.geometry().arrayUuid() + ") as slot 2; pass --force to overwrite it (this destroys"
                + " what is on it), or choose another file");
    }

    @Test
    void shouldRefuseAMemberWithADamagedSuperblockWithoutForce() throws Exception {
        List<Path> old = paths("a.img", "b.img", "c.img");
        creator.create(spec(old, OptionalLong.of(8L * MIB)));
        try (FileMember member = FileMember.open(old.get(0), false)) {
            member.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0x100, false);
            member.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 4096 + 0x100, false);
        }

        String message = refusal(spec(old, OptionalLong.empty()));

        assertThat(message).startsWith(old.get(0) + " holds a damaged parityd superblock (copy at 0: checksum"
                + " mismatch").endsWith(") and may belong to an array; pass --force to overwrite it (this destroys"
                + " what is on it), or choose another file");
    }

    @Test
    void shouldRefuseAPathWhoseDirectoryDoesNotExist() throws Exception {
        Path orphan = dir.resolve("missing-dir/c.img");
        assertRefused(spec(List.of(dir.resolve("a.img"), dir.resolve("b.img"), orphan), OptionalLong.of(8L * MIB)),
                "cannot create " + orphan + ": its directory " + orphan.getParent() + " does not exist;"
                        + " create the directory first, or give another path");
    }

    @Test
    void shouldRefuseADirectoryAsMember() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        assertRefused(spec(List.of(dir.resolve("a.img"), sub, dir.resolve("b.img")), OptionalLong.of(8L * MIB)),
                sub + " is a directory; give the path of a member file");
    }

    @Test
    void shouldRefuseAMissingMemberWhenNoSizeIsGiven() throws Exception {
        Path a = existing("a.img", 8 * MIB);
        Path b = existing("b.img", 8 * MIB);
        Path c = dir.resolve("c.img");
        assertRefused(spec(List.of(a, b, c), OptionalLong.empty()),
                c + " does not exist; give --size to create it as a sparse file");
    }

    @Test
    void shouldRefuseAnExistingMemberTooSmallForTheArray() throws Exception {
        Path small = existing("small.img", MIB + 2 * CHUNK);
        List<Path> paths = List.of(existing("a.img", 8 * MIB), small, existing("b.img", 8 * MIB));
        assertRefused(spec(paths, OptionalLong.empty()), small + " is 1.1 MiB (1179648 bytes), too small: a 3-member"
                + " array with 64 KiB (65536 bytes) chunks needs at least 1.2 MiB (1245184 bytes) per member"
                + " (1 MiB of metadata, then one chunk per member); use a bigger file or a smaller --chunk");
    }

    @Test
    void shouldRefuseASizeTooSmallForNewMembers() throws Exception {
        List<Path> paths = paths("a.img", "b.img", "c.img");
        assertRefused(spec(paths, OptionalLong.of(MIB)), "--size 1 MiB (1048576 bytes) is too small for "
                + paths.get(0) + ": a 3-member array with 64 KiB (65536 bytes) chunks needs at least 1.2 MiB"
                + " (1245184 bytes) per member (1 MiB of metadata, then one chunk per member);"
                + " give --size of at least 1245184");
        assertRefused(spec(paths, OptionalLong.of(0)), "--size 0 is not a size; give the size of new member files"
                + " in bytes, e.g. --size 1073741824");
    }

    @Test
    void shouldRefuseAFileItCannotWrite() throws Exception {
        Path locked = existing("locked.img", 8 * MIB);
        // Root ignores permission bits, but not the immutable attribute.
        assumeTrue(run("chattr", "+i", locked.toString()) == 0, "chattr +i works here");
        try {
            assertRefused(spec(List.of(dir.resolve("a.img"), dir.resolve("b.img"), locked), OptionalLong.of(8L * MIB)),
                    "cannot use " + locked + ": permission denied (a member must be readable and writable);"
                            + " fix its permissions or run parityd as a user that may write it");
        } finally {
            run("chattr", "-i", locked.toString());
        }
    }

    /** Asserts the exact message and that no file under the test directory changed or appeared. */
    private void assertRefused(CreateSpec spec, String message) throws IOException {
        assertThat(refusal(spec)).startsWith(message);
    }

    private String refusal(CreateSpec spec) throws IOException {
        DirectorySnapshot before = DirectorySnapshot.of(dir);
        ArrayException refused = catchThrowableOfType(() -> creator.create(spec), ArrayException.class);
        assertThat(refused).as("create refused").isNotNull();
        assertThat(refused.getMessage()).isEqualTo(refused.problem() + "; " + refused.fix());
        assertThat(DirectorySnapshot.of(dir)).as("nothing written").isEqualTo(before);
        return refused.getMessage();
    }

    private static CreateSpec spec(List<Path> members, OptionalLong size) {
        return new CreateSpec("tank", 5, CHUNK, size, members, false);
    }

    private List<Path> paths(String... names) {
        return Arrays.stream(names).map(dir::resolve).toList();
    }

    private Path existing(String name, int size) throws IOException {
        byte[] content = new byte[size];
        Arrays.fill(content, (byte) 0x6b);
        Path path = Files.write(dir.resolve(name), content);
        Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        return path;
    }

    static SuperblockRecord readRecord(Path path) throws IOException {
        try (FileMember member = FileMember.open(path, true)) {
            SuperblockRead read = Superblock.read(member);
            assertThat(read.status()).as(read.detail()).isEqualTo(Status.OK);
            return read.record().orElseThrow();
        }
    }

    private static List<Long> bothCopiesGeneration(Path path) throws IOException {
        try (FileMember member = FileMember.open(path, true)) {
            ByteBuffer both = ByteBuffer.allocate(8192).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            member.read(both, 0);
            return List.of(both.getLong(0x10), both.getLong(4096 + 0x10));
        }
    }

    private static byte[] dataArea(Path path, ArrayGeometry g) throws IOException {
        byte[] all = Files.readAllBytes(path);
        return Arrays.copyOfRange(all, (int) g.dataOffset(), (int) (g.dataOffset() + g.memberDataSize()));
    }

    /** st_blocks (512-byte units) from coreutils stat(1). */
    private static long allocatedBlocks(Path path) throws IOException, InterruptedException {
        Process stat = new ProcessBuilder("stat", "--format=%b", path.toString()).start();
        String out = new String(stat.getInputStream().readAllBytes()).trim();
        assertThat(stat.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return Long.parseLong(out);
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getInputStream().readAllBytes();
        return process.waitFor(30, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }
}
