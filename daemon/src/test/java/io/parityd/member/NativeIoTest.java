package io.parityd.member;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeIoTest {

    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void shouldDeallocateBlocksWhenPunchingAHole() throws Exception {
        Path file = dir.resolve("punch.img");
        byte[] ones = new byte[4 * MIB];
        Arrays.fill(ones, (byte) 0x5a);
        Files.write(file, ones);

        try (NativeIo io = NativeIo.open(file, NativeIo.O_RDWR | NativeIo.O_CLOEXEC, 0)) {
            io.fdatasync();
            long before = allocatedBlocks(file);
            io.fallocate(NativeIo.FALLOC_FL_PUNCH_HOLE | NativeIo.FALLOC_FL_KEEP_SIZE, MIB, 2L * MIB);
            long after = allocatedBlocks(file);

            // st_blocks counts 512-byte units: 2 MiB punched is 4096 of them.
            assertThat(before - after).isEqualTo(2L * MIB / 512);
        }
        byte[] back = Files.readAllBytes(file);
        assertThat(back).hasSize(4 * MIB);
        assertThat(Arrays.copyOfRange(back, MIB, 3 * MIB)).containsOnly((byte) 0);
        assertThat(back[MIB - 1]).isEqualTo((byte) 0x5a);
        assertThat(back[3 * MIB]).isEqualTo((byte) 0x5a);
    }

    @Test
    void shouldNameCallPathAndReasonWhenOpenFails() {
        Path missing = dir.resolve("no-such-dir/d1.img");

        assertThatThrownBy(() -> NativeIo.open(missing, NativeIo.O_RDWR, 0))
                .isInstanceOfSatisfying(NativeIoException.class, e -> {
                    assertThat(e.errno()).isEqualTo(2);
                    assertThat(e.call()).isEqualTo("open");
                })
                .hasMessage("open " + missing + ": No such file or directory (errno 2)");
    }

    @Test
    void shouldReportBadDescriptorWhenFallocatingOnReadOnlyDescriptor() throws Exception {
        Path file = dir.resolve("ro.img");
        Files.write(file, new byte[8192]);

        try (NativeIo io = NativeIo.open(file, NativeIo.O_RDONLY | NativeIo.O_CLOEXEC, 0)) {
            assertThatThrownBy(() -> io.fallocate(NativeIo.FALLOC_FL_PUNCH_HOLE | NativeIo.FALLOC_FL_KEEP_SIZE, 0, 4096))
                    .isInstanceOfSatisfying(NativeIoException.class,
                            e -> assertThat(e.errno()).isEqualTo(NativeIo.EBADF))
                    .hasMessage("fallocate(PUNCH_HOLE) " + file + ": Bad file descriptor (errno 9)");
        }
    }

    @Test
    void shouldReportNotATypewriterWhenAskingAFileForItsBlockDeviceSize() throws Exception {
        Path file = dir.resolve("plain.img");
        Files.write(file, new byte[4096]);

        try (NativeIo io = NativeIo.open(file, NativeIo.O_RDONLY | NativeIo.O_CLOEXEC, 0)) {
            assertThatThrownBy(io::blockDeviceSize)
                    .isInstanceOfSatisfying(NativeIoException.class,
                            e -> assertThat(e.errno()).isEqualTo(NativeIo.ENOTTY))
                    .hasMessageStartingWith("ioctl(BLKGETSIZE64) " + file + ": ");
        }
    }

    @Test
    void shouldReadBackWhatPwriteWroteAtTheBuffersPosition() throws Exception {
        Path file = dir.resolve("rw.img");
        try (NativeIo io = NativeIo.open(file, NativeIo.O_RDWR | NativeIo.O_CREAT | NativeIo.O_CLOEXEC, 0644)) {
            ByteBuffer src = NativeIo.alignedBuffer(8192);
            for (int i = 0; i < src.capacity(); i++) {
                src.put(i, (byte) (i * 7));
            }
            src.position(100);
            assertThat(io.pwrite(src, 4096)).isEqualTo(8092);
            assertThat(src.remaining()).isZero();

            ByteBuffer dst = ByteBuffer.allocate(8092);
            assertThat(io.pread(dst, 4096)).isEqualTo(8092);
            assertThat(dst.flip()).isEqualTo(src.position(100));
            assertThat(io.pread(ByteBuffer.allocate(10), 4096 + 8092)).isZero();
        }
    }

    @Test
    void shouldAlignBuffersForDirectIo() {
        ByteBuffer buffer = NativeIo.alignedBuffer(12345);

        assertThat(buffer.isDirect()).isTrue();
        assertThat(buffer.capacity()).isEqualTo(12345);
        assertThat(buffer.alignmentOffset(0, NativeIo.DIRECT_ALIGNMENT)).isZero();
    }

    @Test
    void shouldRefuseCallsAfterClose() throws Exception {
        Path file = dir.resolve("closed.img");
        Files.write(file, new byte[4096]);
        NativeIo io = NativeIo.open(file, NativeIo.O_RDWR | NativeIo.O_CLOEXEC, 0);
        io.close();
        io.close();

        assertThatThrownBy(io::fdatasync).isInstanceOf(ClosedChannelException.class);
    }

    /** st_blocks through coreutils stat(1): Java's "unix:" attribute view does not expose it. */
    static long allocatedBlocks(Path file) throws IOException, InterruptedException {
        Process stat = new ProcessBuilder("stat", "--format=%b", file.toString()).redirectErrorStream(true).start();
        assertThat(stat.waitFor(30, TimeUnit.SECONDS)).as("stat finished").isTrue();
        String out = new String(stat.getInputStream().readAllBytes()).trim();
        assertThat(stat.exitValue()).as("stat: " + out).isZero();
        return Long.parseLong(out);
    }
}
