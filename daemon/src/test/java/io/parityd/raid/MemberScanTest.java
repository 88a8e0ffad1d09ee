package io.parityd.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parityd.member.FileMember;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Assembly by UUID: the current members picked from a directory that holds much else. */
class MemberScanTest {

    private static final int MIB = 1 << 20;
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-06-01T10:00:00Z"), ZoneOffset.UTC);

    @TempDir
    Path dir;

    private final ArrayAssembler assembler = new ArrayAssembler(CLOCK);

    @Test
    void shouldPickTheCurrentMembersAmongReplacedOnesOldCopiesAndAnotherArray() throws Exception {
        UUID tank = create("tank", List.of(path("a"), path("b"), path("c"), path("d")), List.of(path("s1")));
        Path oldCopy = Files.copy(path("c"), path("c-old"), StandardCopyOption.COPY_ATTRIBUTES);
        try (AssembledArray array = assembler.assemble(List.of(path("a"), path("b"), path("c"), path("d"), path("s1")))) {
            array.markFaulty(0, "drill"); // the spare s1 takes slot 0 over
            AssembledArray.Spare spare = array.takeSpare().orElseThrow();
            array.beginRebuild(0, spare.path(), spare.device());
            array.rebuildFinished(0);
            array.markFaulty(1, "drill"); // and b is replaced by n1
            array.beginRebuild(1, sized(path("n1")), FileMember.open(path("n1"), false));
            array.rebuildFinished(1);
        }
        create("other", List.of(path("e"), path("f"), path("g")), List.of());
        Files.write(path("junk"), new byte[3 * MIB]);
        Files.write(path("tiny"), new byte[10]);

        MemberScan.Result found = MemberScan.pick(Optional.of(tank), List.of(dir), true);

        assertThat(found.members()).containsExactly(path("c"), path("d"), path("n1"), path("s1"));
        assertThat(found.leftOut()).hasSize(3);
        assertThat(found.leftOut().get(0)).startsWith(path("a") + ": replaced (its member uuid ");
        assertThat(found.leftOut().get(1)).startsWith(path("b") + ": replaced (its member uuid ");
        assertThat(found.leftOut().get(2)).isEqualTo(oldCopy + ": an older copy of the member of slot 2 (generation 1; "
                + path("c") + " has " + ArrayCreatorTest.readRecord(path("c")).generation() + ")");
        assertThat(found.ignored()).as("e, f, g, junk, tiny").isEqualTo(5);
        try (AssembledArray array = assembler.assemble(found.members())) {
            assertThat(array.states()).containsOnly(MemberState.ACTIVE);
        }
    }

    @Test
    void shouldAskForTheUuidWhenTheCandidatesHoldSeveralArrays() throws Exception {
        UUID one = create("one", List.of(path("a"), path("b"), path("c")), List.of());
        UUID two = create("two", List.of(path("d"), path("e"), path("f")), List.of());

        assertThatThrownBy(() -> MemberScan.pick(Optional.empty(), List.of(dir), true))
                .hasMessage(dir + " holds members of 2 arrays: found 'one' " + one + " (3 members), 'two' " + two
                        + " (3 members); say which to serve with --uuid UUID");
        assertThat(MemberScan.pick(Optional.empty(), List.of(path("d"), path("e")), false).geometry().name())
                .isEqualTo("two");
        assertThatThrownBy(() -> MemberScan.pick(Optional.of(one), List.of(dir), false))
                .hasMessage(dir + " is a directory; pass --scan to look for members in it, or list the member files");
        UUID stranger = UUID.fromString("00000000-0000-4000-8000-000000000042");
        assertThatThrownBy(() -> MemberScan.pick(Optional.of(stranger), List.of(path("a"), path("d")), false))
                .hasMessageStartingWith("no member of array " + stranger + " is among " + path("a") + " " + path("d")
                        + ": found 'one' " + one + " (1 member), 'two' " + two + " (1 member)");
    }

    @Test
    void shouldNameGivenFilesItLeftOut() throws Exception {
        UUID one = create("one", List.of(path("a"), path("b"), path("c")), List.of());
        create("two", List.of(path("d"), path("e"), path("f")), List.of());

        MemberScan.Result found = MemberScan.pick(Optional.of(one),
                List.of(path("a"), path("gone"), path("d"), path("b"), path("c")), false);

        assertThat(found.members()).containsExactly(path("a"), path("b"), path("c"));
        assertThat(found.leftOut()).containsExactly(path("gone") + ": does not exist",
                path("d") + ": belongs to array 'two' " + ArrayCreatorTest.readRecord(path("d")).geometry().arrayUuid());
    }

    private UUID create(String name, List<Path> members, List<Path> spares) throws ArrayException {
        return new ArrayCreator(CLOCK).create(new CreateSpec(name, 5, 65536, OptionalLong.of(4L * MIB), members,
                false, spares)).geometry().arrayUuid();
    }

    private static Path sized(Path path) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            f.setLength(4L * MIB);
        }
        return path;
    }

    private Path path(String name) {
        return dir.resolve(name + ".img");
    }
}
