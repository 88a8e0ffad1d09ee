package io.parityd.member;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.parityd.block.BlockDevice;

class MembersTest {

    private static final int MIB = 1 << 20;

    @RegisterExtension
    final LoopDevices loops = new LoopDevices();

    @TempDir
    Path dir;

    @Test
    void shouldOpenARegularFileAsAFileMember() throws IOException {
        Path file = LoopDevices.backingFile(dir.resolve("1.img"), MIB + 5);

        try (BlockDevice member = Members.open(file, false)) {
            assertThat(member).isInstanceOf(FileMember.class);
            assertThat(member.size()).isEqualTo(MIB + 5);
        }
        assertThat(Members.isBlockDevice(file)).isFalse();
        assertThat(Members.sizeOf(file)).isEqualTo(MIB + 5);
    }

    @Test
    void shouldOpenABlockDeviceAsABlockMemberEvenThroughASymlink() throws IOException {
        Path device = loops.attach(LoopDevices.backingFile(dir.resolve("1.img"), 3L * MIB));
        Path link = Files.createSymbolicLink(dir.resolve("by-name"), device);

        try (BlockDevice member = Members.open(link, false)) {
            assertThat(member).isInstanceOf(BlockMember.class);
            assertThat(member.size()).isEqualTo(3L * MIB);
            member.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 100, true);
            assertThat(Members.sizeOf(device)).as("measured while held exclusively").isEqualTo(3L * MIB);
        }
        try (BlockDevice inspector = Members.open(device, true)) {
            ByteBuffer back = ByteBuffer.allocate(3);
            inspector.read(back, 100);
            assertThat(back.array()).containsExactly(1, 2, 3);
        }
        assertThat(Members.isBlockDevice(device)).isTrue();
        assertThat(Members.isBlockDevice(link)).isTrue();
        Files.delete(link); // @TempDir would warn about a link that leads outside it
    }

    @Test
    void shouldRefuseDirectoriesAndCharacterDevicesNamingThePath() {
        assertThatThrownBy(() -> Members.open(dir, false))
                .isInstanceOf(IOException.class)
                .hasMessage(dir + " is a directory; a member must be a regular file or a block device");
        assertThatThrownBy(() -> Members.open(Path.of("/dev/null"), true))
                .hasMessage("/dev/null is a character device; a member must be a regular file or a block device");
        assertThatThrownBy(() -> Members.sizeOf(Path.of("/dev/null")))
                .hasMessage("/dev/null is a character device; a member must be a regular file or a block device");
    }

    @Test
    void shouldNameAMissingPath() throws IOException {
        Path missing = dir.resolve("absent.img");

        assertThatThrownBy(() -> Members.open(missing, false))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining(missing.toString());
        assertThatThrownBy(() -> Members.sizeOf(missing)).isInstanceOf(NoSuchFileException.class);
        assertThat(Members.isBlockDevice(missing)).isFalse();
    }

    @Test
    void shouldDecodeDeviceNumbersAsGlibcDoes() {
        // glibc's makedev(0x12345, 0x123456): both numbers need their high bits.
        long major = 0x12345;
        long minor = 0x123456;
        long rdev = (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffL) << 12) | ((major & ~0xfffL) << 32);

        assertThat(QueueLimits.major(rdev)).isEqualTo(major);
        assertThat(QueueLimits.minor(rdev)).isEqualTo(minor);
        assertThat(QueueLimits.major(0x0700)).isEqualTo(7);
        assertThat(QueueLimits.minor(0x0703)).isEqualTo(3);
    }
}
