package io.parityd.member;

import static io.parityd.member.NativeIoTest.allocatedBlocks;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.EOFException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.parityd.block.BlockDevice;
import io.parityd.block.BlockDeviceContract;

class FileMemberTest extends BlockDeviceContract {

    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private final AtomicInteger created = new AtomicInteger();

    @Override
    protected BlockDevice newDevice(long minSize) throws IOException {
        return FileMember.createSparse(dir.resolve("m" + created.incrementAndGet() + ".img"), minSize);
    }

    @Test
    void shouldCreateSparseFileThatAllocatesNothing() throws Exception {
        Path file = dir.resolve("sparse.img");
        try (FileMember member = FileMember.createSparse(file, 64L * MIB)) {
            assertThat(member.size()).isEqualTo(64L * MIB);
            assertThat(member.describe()).isEqualTo(file.toString());
            assertThat(member.zeroesFast(0, MIB, true)).as("ext4 punches holes").isTrue();
        }
        assertThat(Files.size(file)).isEqualTo(64L * MIB);
        assertThat(allocatedBlocks(file)).isZero();
    }

    @Test
    void shouldCreateANewMemberFileOwnerOnly() throws Exception {
        Path file = dir.resolve("private.img");
        try (FileMember member = FileMember.createSparse(file, MIB)) {
            assertThat(member.size()).isEqualTo(MIB);
        }
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .as("the volume's data is nobody else's to read, whatever the umask lets through")
                .isEqualTo("rw-------");
    }

    @Test
    void shouldSayItIsLostOnceItsFileIsDeletedButNotWhenItKeepsAName() throws Exception {
        Path file = dir.resolve("doomed.img");
        Path other = dir.resolve("other-name.img");
        try (FileMember member = FileMember.createSparse(file, MIB)) {
            assertThat(member.lost()).isNull();
            Files.createLink(other, file);
            Files.delete(file);
            assertThat(member.lost()).as("still named by its hard link").isNull();
            Files.delete(other);
            assertThat(member.lost()).contains(file + " was deleted while parityd had it open")
                    .contains("link count is 0");
            member.write(ByteBuffer.wrap(pattern(4096)), 0, true); // the kernel still takes writes: why it must be asked
        }
    }

    @Test
    void shouldSayItIsLostOnceItsFileIsTruncated() throws Exception {
        Path file = dir.resolve("shrunk.img");
        try (FileMember member = FileMember.createSparse(file, 4L * MIB)) {
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.setLength(MIB);
            }
            assertThat(member.lost()).isEqualTo(file + " was truncated while parityd had it open: it is " + MIB
                    + " bytes, it was " + 4L * MIB);
        }
    }

    @Test
    void shouldRefuseToCreateOverAnExistingFile() throws IOException {
        Path file = dir.resolve("taken.img");
        byte[] before = pattern(8192);
        Files.write(file, before);

        assertThatThrownBy(() -> FileMember.createSparse(file, MIB))
                .isInstanceOf(FileAlreadyExistsException.class)
                .hasMessageContaining(file.toString());
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
    }

    @Test
    void shouldUseTheFileSizeAtOpen() throws IOException {
        Path file = dir.resolve("existing.img");
        Files.write(file, pattern(3 * 4096 + 5));

        try (FileMember member = FileMember.open(file, true)) {
            assertThat(member.size()).isEqualTo(3 * 4096 + 5);
            ByteBuffer tail = ByteBuffer.allocate(5);
            member.read(tail, 3 * 4096);
            assertThat(tail.array()).isEqualTo(Arrays.copyOfRange(pattern(3 * 4096 + 5), 3 * 4096, 3 * 4096 + 5));
        }
    }

    @Test
    void shouldDeallocateWhenZeroingMayDeallocateAndKeepBlocksOtherwise() throws Exception {
        Path file = dir.resolve("alloc.img");
        Files.write(file, pattern(8 * MIB));
        try (FileMember member = FileMember.open(file, false)) {
            member.flush();
            long full = allocatedBlocks(file);

            member.writeZeroes(0, 2 * MIB, false, true);
            assertThat(allocatedBlocks(file)).as("ZERO_RANGE keeps blocks").isEqualTo(full);

            member.writeZeroes(2 * MIB, 2 * MIB, true, true);
            member.trim(4 * MIB, 2 * MIB, true);
            assertThat(allocatedBlocks(file)).as("punched 4 MiB").isEqualTo(full - 4L * MIB / 512);
        }
        byte[] back = Files.readAllBytes(file);
        assertThat(Arrays.copyOfRange(back, 0, 6 * MIB)).containsOnly((byte) 0);
        assertThat(Arrays.copyOfRange(back, 6 * MIB, 8 * MIB))
                .isEqualTo(Arrays.copyOfRange(pattern(8 * MIB), 6 * MIB, 8 * MIB));
    }

    @Test
    void shouldFallBackToWritingZeroesWhereZeroRangeIsUnsupported() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && "tmpfs".equals(Files.getFileStore(shm).type()),
                "needs tmpfs at /dev/shm: it punches holes but has no ZERO_RANGE");
        Path tmpfsDir = Files.createTempDirectory(shm, "parityd-filemember-");
        try {
            Path file = tmpfsDir.resolve("m.img");
            Files.write(file, pattern(2 * MIB));
            try (FileMember member = FileMember.open(file, false)) {
                member.writeZeroes(4097, MIB + 3, false, false);

                assertThat(member.zeroesFast(0, 4096, false)).as("learned from EOPNOTSUPP").isFalse();
                assertThat(member.zeroesFast(0, 4096, true)).as("tmpfs still punches").isTrue();
                member.writeZeroes(MIB + 4100, 10, false, false);
            }
            byte[] expected = pattern(2 * MIB);
            Arrays.fill(expected, 4097, 4097 + MIB + 3, (byte) 0);
            Arrays.fill(expected, MIB + 4100, MIB + 4110, (byte) 0);
            assertThat(Files.readAllBytes(file)).isEqualTo(expected);
        } finally {
            deleteTree(tmpfsDir);
        }
    }

    @Test
    void shouldNamePathAndOffsetWhenTheFileShrankUnderneath() throws IOException {
        Path file = dir.resolve("shrinks.img");
        Files.write(file, pattern(4 * 4096));
        try (FileMember member = FileMember.open(file, true)) {
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(2 * 4096 + 100);
            }

            assertThatThrownBy(() -> member.read(ByteBuffer.allocate(4096), 2 * 4096))
                    .isInstanceOf(EOFException.class)
                    .hasMessageStartingWith(file + ": short read at offset 8192: end of file after 100 of 4096 bytes");
        }
    }

    @Test
    void shouldRefuseChangesToAReadOnlyMember() throws IOException {
        Path file = dir.resolve("ro.img");
        byte[] before = pattern(4 * 4096);
        Files.write(file, before);
        try (FileMember member = FileMember.open(file, true)) {
            assertThat(member.zeroesFast(0, 4096, true)).isFalse();
            assertThatThrownBy(() -> member.write(ByteBuffer.allocate(10), 0, false))
                    .isInstanceOf(IOException.class).hasMessageContaining(file + " is open read-only");
            assertThatThrownBy(() -> member.writeZeroes(0, 4096, true, false)).isInstanceOf(IOException.class);
            assertThatThrownBy(() -> member.trim(0, 4096, false)).isInstanceOf(IOException.class);
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(before);
    }

    @Test
    void shouldRefuseASecondWriterUntilTheFirstClosesButAllowReaders() throws IOException {
        Path file = dir.resolve("locked.img");
        Files.write(file, pattern(4096));
        try (FileMember first = FileMember.open(file, false)) {
            assertThatThrownBy(() -> FileMember.open(file, false))
                    .isInstanceOf(MemberInUseException.class)
                    .hasMessageStartingWith(file + ": in use: another process holds it for writing")
                    .hasMessageContaining("fuser -v " + file);
            try (FileMember reader = FileMember.open(file, true)) {
                assertThat(reader.size()).isEqualTo(4096);
            }
            first.write(ByteBuffer.wrap(new byte[] {7}), 0, false);
        }
        try (FileMember again = FileMember.open(file, false)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            again.read(b, 0);
            assertThat(b.get(0)).as("the first writer's byte, under the lock its close released").isEqualTo((byte) 7);
        }
    }

    @Test
    void shouldRefuseRangesOutsideTheFileInsteadOfGrowingIt() throws IOException {
        Path file = dir.resolve("bounded.img");
        try (FileMember member = FileMember.createSparse(file, 8192)) {
            assertThatThrownBy(() -> member.write(ByteBuffer.allocate(2), 8191, false))
                    .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining(file.toString());
            assertThatThrownBy(() -> member.read(ByteBuffer.allocate(1), -1))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> member.writeZeroes(4096, 4097, true, false))
                    .isInstanceOf(IndexOutOfBoundsException.class);
        }
        assertThat(Files.size(file)).isEqualTo(8192);
    }

    @Test
    void shouldRefuseMissingFilesAndDirectories() {
        Path missing = dir.resolve("nope.img");
        assertThatThrownBy(() -> FileMember.open(missing, false))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining(missing.toString());
        assertThatThrownBy(() -> FileMember.open(dir, false))
                .isInstanceOf(IOException.class)
                .hasMessage(dir + " is a directory; a member must be a regular file or a block device");
        assertThatThrownBy(() -> FileMember.open(Path.of("/dev/null"), true))
                .hasMessage("/dev/null is a character device; a member must be a regular file or a block device");
    }

    @Test
    void shouldReportARefusedOpenAsFilesWouldWithTheErrnoAsCause() throws Exception {
        Path file = dir.resolve("immutable.img");
        Files.write(file, pattern(4096));
        assumeTrue(run("chattr", "+i", file.toString()) == 0, "needs chattr +i (root, ext4) to make a file unwritable");
        try {
            assertThatThrownBy(() -> FileMember.open(file, false))
                    .isInstanceOfSatisfying(FileSystemException.class,
                            e -> assertThat(e.getReason()).isEqualTo("Operation not permitted"))
                    .hasMessage(file + ": Operation not permitted")
                    .cause().isInstanceOfSatisfying(NativeIoException.class, e -> assertThat(e.errno()).isEqualTo(1));
            try (FileMember reader = FileMember.open(file, true)) {
                assertThat(reader.size()).isEqualTo(4096);
            }
        } finally {
            run("chattr", "-i", file.toString());
        }
    }

    @Test
    void shouldHoldOneDescriptorAndCloseIt() throws IOException {
        Path file = dir.resolve("fds.img");
        FileMember member = FileMember.createSparse(file, MIB);
        assertThat(openDescriptorsOn(file)).isEqualTo(1);

        member.close();

        assertThat(openDescriptorsOn(file)).isZero();
    }

    @Test
    void shouldKeepServingEveryThreadWhenOneDoingIoIsInterrupted() throws Exception {
        Path file = dir.resolve("interrupted.img");
        byte[] content = pattern(64 * 1024);
        Files.write(file, content);
        try (FileMember member = FileMember.open(file, false)) {
            // A FileChannel would close itself for every thread here (ClosedByInterruptException).
            Thread.currentThread().interrupt();
            try {
                member.write(ByteBuffer.wrap(content, 0, 4096), 8192, false);
                member.read(ByteBuffer.allocate(4096), 0);
                member.flush();
                assertThat(Thread.currentThread().isInterrupted()).as("the interrupt is left for the caller").isTrue();
            } finally {
                Thread.interrupted();
            }

            ByteBuffer back = ByteBuffer.allocate(content.length);
            Thread other = new Thread(() -> {
                try {
                    member.read(back, 0);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            other.start();
            other.join(TimeUnit.SECONDS.toMillis(30));
            byte[] expected = content.clone();
            System.arraycopy(content, 0, expected, 8192, 4096);
            assertThat(back.array()).isEqualTo(expected);
        }
    }

    @Test
    void shouldWriteFromReadOnlyBuffersAndRefuseToReadIntoThem() throws IOException {
        Path file = dir.resolve("readonly-buffers.img");
        byte[] content = pattern(3 * MIB);
        try (FileMember member = FileMember.createSparse(file, 4L * MIB)) {
            ByteBuffer heap = ByteBuffer.wrap(content).asReadOnlyBuffer();
            member.write(heap.position(5), 7, false); // larger than the scratch buffer it goes through
            ByteBuffer direct = ByteBuffer.allocateDirect(100).put(content, 0, 100).flip().asReadOnlyBuffer();
            member.write(direct, 3 * MIB + 50, false);

            assertThat(heap.hasRemaining()).isFalse();
            assertThat(direct.hasRemaining()).isFalse();
            assertThatThrownBy(() -> member.read(ByteBuffer.allocateDirect(10).asReadOnlyBuffer(), 0))
                    .isInstanceOf(ReadOnlyBufferException.class);
        }
        byte[] back = Files.readAllBytes(file);
        assertThat(Arrays.copyOfRange(back, 7, 7 + content.length - 5)).isEqualTo(Arrays.copyOfRange(content, 5, content.length));
        assertThat(Arrays.copyOfRange(back, 3 * MIB + 50, 3 * MIB + 150)).isEqualTo(Arrays.copyOfRange(content, 0, 100));
    }

    @Test
    void shouldReportAFullFilesystemWithItsErrno() throws Exception {
        assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0,
                "needs root to mount a 256 KiB tmpfs that fills up");
        Path small = Files.createDirectory(dir.resolve("small"));
        assertThat(run("mount", "-t", "tmpfs", "-o", "size=256k", "parityd-test", small.toString())).isZero();
        try {
            Path file = small.resolve("m.img");
            try (FileMember member = FileMember.createSparse(file, 4L * MIB)) {
                assertThatThrownBy(() -> member.write(ByteBuffer.allocateDirect(MIB), 0, false))
                        .isInstanceOfSatisfying(NativeIoException.class,
                                e -> assertThat(e.errno()).isEqualTo(NativeIo.ENOSPC))
                        .hasMessageStartingWith("pwrite " + file + ": No space left on device (errno 28)");
            }
        } finally {
            assertThat(run("umount", small.toString())).isZero();
        }
    }

    /** Runs a command, returns its exit status; its output goes to the test's output. */
    private static int run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).inheritIO().start();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("%s finished", command[0]).isTrue();
        return process.exitValue();
    }

    /** Counts this process's descriptors open on {@code file}, from /proc/self/fd. */
    static long openDescriptorsOn(Path file) throws IOException {
        Path real = file.toRealPath();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(real);
                } catch (IOException gone) {
                    return false; // the descriptor list changes while we walk it
                }
            }).count();
        }
    }

    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + (i >>> 12) + 1);
        }
        return bytes;
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
