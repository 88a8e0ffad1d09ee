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
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class NativeIoTest {

    private static final int MIB = 1 << 20;
    private static final int EXCLUSIVE = NativeIo.O_RDWR | NativeIo.O_DIRECT | NativeIo.O_CLOEXEC | NativeIo.O_EXCL;

    @RegisterExtension
    final LoopDevices loops = new LoopDevices();

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
    void shouldZeroOutAndDiscardWholeSectorsOfABlockDevice() throws Exception {
        Path device = loops.attach(LoopDevices.backingFile(dir.resolve("1.img"), MIB));
        try (NativeIo io = NativeIo.open(device, EXCLUSIVE, 0)) {
            ByteBuffer ones = NativeIo.alignedBuffer(8192);
            for (int i = 0; i < ones.capacity(); i++) {
                ones.put(i, (byte) 1);
            }
            io.pwrite(ones, 0);

            io.zeroOut(512, 1024);
            io.discard(4096, 4096); // a loop device punches its file, so this range reads zeroes too

            ByteBuffer back = NativeIo.alignedBuffer(8192);
            io.pread(back, 0);
            for (int i = 0; i < back.capacity(); i++) {
                boolean zeroed = (i >= 512 && i < 1536) || i >= 4096;
                assertThat(back.get(i)).as("byte %d", i).isEqualTo((byte) (zeroed ? 0 : 1));
            }
        }
    }

    @Test
    void shouldReportInvalidArgumentForRangesOffTheSectorGrid() throws Exception {
        Path device = loops.attach(LoopDevices.backingFile(dir.resolve("1.img"), MIB));
        try (NativeIo io = NativeIo.open(device, EXCLUSIVE, 0)) {
            assertThatThrownBy(() -> io.discard(100, 4096))
                    .isInstanceOfSatisfying(NativeIoException.class, e -> {
                        assertThat(e.errno()).isEqualTo(NativeIo.EINVAL);
                        assertThat(e.call()).isEqualTo("ioctl(BLKDISCARD)");
                    })
                    .hasMessage("ioctl(BLKDISCARD) " + device + ": Invalid argument (errno 22)");
            assertThatThrownBy(() -> io.zeroOut(0, 100))
                    .hasMessage("ioctl(BLKZEROOUT) " + device + ": Invalid argument (errno 22)");
        }
    }

    @Test
    void shouldReportBadDescriptorWhenZeroingThroughAReadOnlyDescriptor() throws Exception {
        Path device = loops.attach(LoopDevices.backingFile(dir.resolve("1.img"), MIB));
        try (NativeIo io = NativeIo.open(device, NativeIo.O_RDONLY | NativeIo.O_CLOEXEC, 0)) {
            assertThatThrownBy(() -> io.zeroOut(0, 4096))
                    .isInstanceOfSatisfying(NativeIoException.class, e -> assertThat(e.errno()).isEqualTo(NativeIo.EBADF))
                    .hasMessage("ioctl(BLKZEROOUT) " + device + ": Bad file descriptor (errno 9)");
            assertThatThrownBy(() -> io.discard(0, 4096))
                    .hasMessage("ioctl(BLKDISCARD) " + device + ": Bad file descriptor (errno 9)");
        }
    }

    @Test
    void shouldReportNotATypewriterWhenDiscardingOnARegularFile() throws Exception {
        Path file = dir.resolve("plain.img");
        Files.write(file, new byte[8192]);

        try (NativeIo io = NativeIo.open(file, NativeIo.O_RDWR | NativeIo.O_CLOEXEC, 0)) {
            assertThatThrownBy(() -> io.discard(0, 4096))
                    .isInstanceOfSatisfying(NativeIoException.class, e -> assertThat(e.errno()).isEqualTo(NativeIo.ENOTTY))
                    .hasMessage("ioctl(BLKDISCARD) " + file + ": Inappropriate ioctl for device (errno 25)");
            assertThatThrownBy(() -> io.zeroOut(0, 4096))
                    .hasMessage("ioctl(BLKZEROOUT) " + file + ": Inappropriate ioctl for device (errno 25)");
        }
    }

    @Test
    void shouldReportBusyWhenABlockDeviceIsAlreadyHeldExclusively() throws Exception {
        Path device = loops.attach(LoopDevices.backingFile(dir.resolve("1.img"), MIB));
        try (NativeIo first = NativeIo.open(device, EXCLUSIVE, 0)) {
            assertThatThrownBy(() -> NativeIo.open(device, EXCLUSIVE, 0))
                    .isInstanceOfSatisfying(NativeIoException.class, e -> assertThat(e.errno()).isEqualTo(NativeIo.EBUSY))
                    .hasMessage("open " + device + ": Device or resource busy (errno 16)");
            assertThat(first.blockDeviceSize()).isEqualTo(MIB);
            assertThat(first.logicalSectorSize()).isEqualTo(512);
        }
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
