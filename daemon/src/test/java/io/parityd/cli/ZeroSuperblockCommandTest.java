package io.parityd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.block.BlockDevice;
import io.parityd.member.FileMember;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code parityd zero-superblock} (issue 16, item 4), as an operator types it: a member of a
 * stopped array is erased and then belongs to no array; a member a running parityd holds, a
 * wrong path and a file with no superblock are refused, and each refusal changes nothing.
 */
class ZeroSuperblockCommandTest {

    @TempDir
    Path dir;

    private String p(String name) {
        return dir.resolve(name).toString();
    }

    private void createVol() {
        CliRun created = CliRun.of("create", "--name", "vol", "--size", "33M", p("a"), p("b"), p("c"));
        assertThat(created.status()).as(created.err()).isZero();
    }

    @Test
    void shouldEraseAMemberSoThatItBelongsToNoArray() throws Exception {
        createVol();

        CliRun erased = CliRun.of("zero-superblock", p("c"));

        assertThat(erased.status()).as(erased.err()).isZero();
        assertThat(erased.out()).contains("erased the superblock of slot 2 of array 'vol'")
                .contains("it belongs to no array now");
        CliRun examined = CliRun.of("examine", p("c"));
        assertThat(examined.status()).isEqualTo(1);
        assertThat(examined.out()).contains("no usable superblock");
        assertThat(CliRun.of("examine", p("a")).out()).as("the other members keep theirs").contains("slot 0");
        CliRun reused = CliRun.of("create", "--name", "other", "--size", "33M", p("c"), p("d"), p("e"));
        assertThat(reused.status()).as("create takes it without --force: " + reused.err()).isZero();
    }

    @Test
    void shouldRefuseAMemberInUseAndChangeNothing() throws Exception {
        createVol();
        byte[] before = head(dir.resolve("b"));

        CliRun refused;
        try (BlockDevice held = FileMember.open(dir.resolve("b"), false)) { // as a serving parityd holds it
            refused = CliRun.of("zero-superblock", p("b"));
        }

        assertThat(refused.status()).isEqualTo(1);
        assertThat(refused.err()).contains(p("b") + " is in use").contains("nothing erased");
        assertThat(head(dir.resolve("b"))).as("the superblock is untouched").isEqualTo(before);
    }

    @Test
    void shouldRefuseAFileWithoutASuperblockUnlessForced() throws Exception {
        byte[] junk = new byte[64 << 10];
        Arrays.fill(junk, (byte) 0x5a);
        Files.write(dir.resolve("junk"), junk);

        CliRun refused = CliRun.of("zero-superblock", p("junk"));
        assertThat(refused.status()).isEqualTo(1);
        assertThat(refused.err()).contains("holds no readable parityd superblock").contains("nothing erased")
                .contains("--force");
        assertThat(Files.readAllBytes(dir.resolve("junk"))).as("nothing changed").isEqualTo(junk);

        CliRun missing = CliRun.of("zero-superblock", p("nowhere"));
        assertThat(missing.status()).isEqualTo(1);
        assertThat(missing.err()).contains(p("nowhere") + " does not exist");

        CliRun forced = CliRun.of("zero-superblock", "--force", p("junk"));
        assertThat(forced.status()).as(forced.err()).isZero();
        byte[] after = Files.readAllBytes(dir.resolve("junk"));
        assertThat(Arrays.copyOf(after, 8192)).as("the superblock area is zeroed").isEqualTo(new byte[8192]);
        assertThat(Arrays.copyOfRange(after, 8192, after.length)).as("the rest is left as it was")
                .isEqualTo(Arrays.copyOfRange(junk, 8192, junk.length));
    }

    private static byte[] head(Path file) throws Exception {
        return Arrays.copyOf(Files.readAllBytes(file), 8192);
    }
}
