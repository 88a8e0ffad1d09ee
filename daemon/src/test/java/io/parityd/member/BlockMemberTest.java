package io.parityd.member;

import static io.parityd.member.NativeIoTest.allocatedBlocks;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.parityd.block.BlockDevice;
import io.parityd.block.BlockDeviceContract;

/**
 * {@link BlockMember} on loop devices with 512-byte sectors: the contract at byte granularity
 * (sub-sector requests take the read-modify-write path), and what is particular to raw devices.
 * {@link BlockMemberOn4kSectorsTest} runs the contract on 4 KiB sectors.
 */
class BlockMemberTest extends BlockDeviceContract {

    private static final int MIB = 1 << 20;

    @RegisterExtension
    final LoopDevices loops = new LoopDevices();

    @TempDir
    Path dir;

    private final AtomicInteger created = new AtomicInteger();

    @Override
    protected BlockDevice newDevice(long minSize) throws IOException {
        return BlockMember.open(loops.attach(sparseFile(dir, created.incrementAndGet(), minSize)), false);
    }

    @Test
    void shouldReportTheBackingFileSizeAndTheSectorSize() throws IOException {
        long size = 8L * MIB + 3 * 4096;
        Path small = loops.attach(sparseFile(dir, 1, size));
        Path fourK = loops.attach(sparseFile(dir, 2, size), 4096);

        try (BlockMember member = BlockMember.open(small, false); BlockMember big = BlockMember.open(fourK, true)) {
            assertThat(member.size()).isEqualTo(size);
            assertThat(member.logicalSectorSize()).isEqualTo(512);
            assertThat(member.describe()).isEqualTo(small.toString());
            assertThat(big.size()).isEqualTo(size);
            assertThat(big.logicalSectorSize()).isEqualTo(4096);
        }
    }

    @Test
    void shouldMoveAlignedDirectBuffersWithoutACopy() throws IOException {
        try (BlockMember member = BlockMember.open(loops.attach(sparseFile(dir, 1, 8L * MIB)), false)) {
            ByteBuffer src = NativeIo.alignedBuffer(3 * MIB);
            fill(src, new Random(1));
            ByteBuffer dst = NativeIo.alignedBuffer(3 * MIB);

            member.write(src, 512, false);
            member.read(dst, 512);

            assertThat(member.bouncedRequests()).as("copies through the bounce buffer").isZero();
            assertThat(src.hasRemaining()).isFalse();
            assertThat(dst.flip()).isEqualTo(src.flip());
            ByteBuffer viaHeap = ByteBuffer.allocate(3 * MIB);
            member.read(viaHeap, 512);
            assertThat(member.bouncedRequests()).isEqualTo(1);
            assertThat(viaHeap.flip()).isEqualTo(src);
        }
    }

    @Test
    void shouldReadBackUnalignedBuffersAndLeaveTheirNeighboursAlone() throws IOException {
        try (BlockMember member = BlockMember.open(loops.attach(sparseFile(dir, 1, 8L * MIB)), false)) {
            byte[] shadow = new byte[8 * MIB];
            Random random = new Random(2);
            int[] addressOffsets = {1, 3, 512, 2048, 4095};
            long offset = 0;
            for (int shift : addressOffsets) {
                for (boolean direct : new boolean[] {true, false}) {
                    int length = 512 * (1 + random.nextInt(300));
                    ByteBuffer src = window(direct, shift, length);
                    fill(src, random);
                    src.get(src.position(), shadow, (int) offset, length);
                    member.write(src, offset, false);
                    assertThat(src.remaining()).isZero();

                    ByteBuffer dst = window(!direct, 4096 - shift, length);
                    member.read(dst, offset);
                    assertThat(dst.remaining()).isZero();
                    assertWindowHolds(dst, shadow, offset, length);
                    offset += length + 512L * random.nextInt(4);
                }
            }
            assertThat(member.bouncedRequests()).isEqualTo(4L * addressOffsets.length);
            assertThat(member.readModifyWrites()).as("all requests are in whole sectors").isZero();
            assertDeviceHolds(member, shadow);
        }
    }

    @Test
    void shouldSplitRequestsLargerThanTheBounceBuffer() throws IOException {
        Path device = loops.attach(sparseFile(dir, 1, 8L * MIB), 4096);
        try (BlockMember member = BlockMember.open(device, false)) {
            byte[] shadow = new byte[8 * MIB];
            int length = 3 * DirectIo.BOUNCE_SIZE + 1536;
            ByteBuffer src = ByteBuffer.allocate(length + 10).position(7).limit(length + 7);
            fill(src, new Random(3));
            src.get(src.position(), shadow, 512, length);

            member.write(src, 512, false);
            ByteBuffer dst = window(true, 5, length + 1024);
            member.read(dst, 0);

            assertWindowHolds(dst, shadow, 0, length + 1024);
            assertThat(member.readModifyWrites()).as("only the first and last piece straddle sectors").isEqualTo(2);
            assertDeviceHolds(member, shadow);
        }
    }

    @Test
    void shouldReadModifyWriteSubSectorRequestsOn4kSectors() throws IOException {
        Path device = loops.attach(sparseFile(dir, 1, 2L * MIB), 4096);
        try (BlockMember member = BlockMember.open(device, false)) {
            byte[] shadow = new byte[2 * MIB];
            Random random = new Random(4);
            fill(shadow, random);
            member.write(ByteBuffer.wrap(shadow), 0, false);
            long[][] ranges = {{512, 512}, {4096 + 1024, 512}, {3 * 4096 - 512, 1024}, {8192 + 512, 3 * 4096},
                {2 * MIB - 512, 512}, {0, 512}, {40_000 & -512, 100_000 & -512}};
            for (long[] range : ranges) {
                ByteBuffer src = window(random.nextBoolean(), 4096, (int) range[1]);
                fill(src, random);
                src.get(src.position(), shadow, (int) range[0], (int) range[1]);
                member.write(src, range[0], false);
            }

            assertThat(member.readModifyWrites()).isEqualTo(ranges.length);
            assertDeviceHolds(member, shadow);
        }
    }

    @Test
    void shouldKeepConcurrentSubSectorWritesIntoTheSameSectors() throws Exception {
        int writers = 8;
        int sectors = 16;
        int rounds = 200;
        Path device = loops.attach(sparseFile(dir, 1, sectors * 4096L), 4096);
        try (BlockMember member = BlockMember.open(device, false)) {
            ExecutorService pool = Executors.newFixedThreadPool(writers);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> done = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    int slot = w;
                    done.add(pool.submit(() -> {
                        start.await();
                        ByteBuffer piece = ByteBuffer.allocate(512);
                        for (int round = 1; round <= rounds; round++) {
                            Arrays.fill(piece.array(), (byte) round);
                            // Every writer owns the same 512 bytes of every 4 KiB sector.
                            member.write(piece.clear(), (round % sectors) * 4096L + slot * 512L, false);
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> f : done) {
                    f.get(2, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
            byte[] back = new byte[sectors * 4096];
            member.read(ByteBuffer.wrap(back), 0);
            for (int sector = 0; sector < sectors; sector++) {
                int lastRound = rounds - Math.floorMod(rounds - sector, sectors);
                for (int slot = 0; slot < writers; slot++) {
                    int at = sector * 4096 + slot * 512;
                    assertThat(Arrays.copyOfRange(back, at, at + 512)).as("sector %d slot %d", sector, slot)
                            .containsOnly((byte) lastRound);
                }
            }
        }
    }

    @Test
    void shouldRefuseASecondReadWriteOpenAsInUseButAllowReadOnly() throws IOException {
        Path device = loops.attach(sparseFile(dir, 1, MIB));
        try (BlockMember first = BlockMember.open(device, false)) {
            first.write(ByteBuffer.wrap(new byte[] {42}), 7, true);

            assertThatThrownBy(() -> BlockMember.open(device, false))
                    .isInstanceOf(MemberInUseException.class)
                    .hasMessageStartingWith(device + ": in use (mounted, or held by another program such as md"
                            + " or another parityd)")
                    .cause().isInstanceOfSatisfying(NativeIoException.class,
                            e -> assertThat(e.errno()).isEqualTo(NativeIo.EBUSY));
            try (BlockMember inspector = BlockMember.open(device, true)) {
                ByteBuffer back = ByteBuffer.allocate(1);
                inspector.read(back, 7);
                assertThat(back.get(0)).isEqualTo((byte) 42);
                assertThat(inspector.zeroesFast(0, 4096, true)).isFalse();
                assertThatThrownBy(() -> inspector.write(ByteBuffer.allocate(512), 0, false))
                        .hasMessage(device + " is open read-only; this member cannot be changed");
                assertThatThrownBy(() -> inspector.trim(0, 4096, false)).isInstanceOf(IOException.class);
                assertThatThrownBy(() -> inspector.writeZeroes(0, 4096, true, false)).isInstanceOf(IOException.class);
            }
        }
        try (BlockMember again = BlockMember.open(device, false)) {
            assertThat(again.size()).as("closing released the claim").isEqualTo(MIB);
        }
    }

    @Test
    void shouldZeroThroughTheDeviceAndDeallocateOnlyWhenAllowed() throws Exception {
        Path backing = sparseFile(dir, 1, 8L * MIB);
        Path device = loops.attach(backing);
        try (BlockMember member = BlockMember.open(device, false)) {
            assertThat(member.zeroesFast(0, MIB, true)).as("loop devices offload zeroing").isTrue();
            byte[] shadow = new byte[8 * MIB];
            fill(shadow, new Random(5));
            member.write(ByteBuffer.wrap(shadow), 0, true);
            long full = allocatedBlocks(backing);

            member.writeZeroes(0, 2 * MIB, false, true);
            assertThat(allocatedBlocks(backing)).as("ZERO_RANGE keeps blocks").isEqualTo(full);
            member.writeZeroes(2 * MIB, 2 * MIB, true, true);
            member.trim(4 * MIB - 100, 2 * MIB + 200, true);
            assertThat(allocatedBlocks(backing)).as("punched 2 MiB, trimmed the 2 MiB of whole sectors in the range")
                    .isEqualTo(full - 4L * MIB / 512);

            Arrays.fill(shadow, 0, 6 * MIB, (byte) 0);
            assertDeviceHolds(member, shadow);
        }
    }

    @Test
    void shouldLearnWhenTheDeviceStopsOffloadingZeroes() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && "tmpfs".equals(Files.getFileStore(shm).type()),
                "needs tmpfs at /dev/shm: a loop device over it loses its zeroing offload on first use");
        Path tmpfsDir = Files.createTempDirectory(shm, "parityd-blockmember-");
        try {
            Path device = loops.attach(sparseFile(tmpfsDir, 1, 4L * MIB));
            try (BlockMember member = BlockMember.open(device, false)) {
                byte[] shadow = new byte[4 * MIB];
                fill(shadow, new Random(6));
                member.write(ByteBuffer.wrap(shadow), 0, false);

                member.writeZeroes(4096, MIB, false, false);
                assumeTrue(QueueLimits.limit(device, "write_zeroes_max_bytes") == 0,
                        "this kernel's loop driver kept offering write-zeroes after tmpfs refused ZERO_RANGE");
                member.writeZeroes(2 * MIB, MIB + 512, true, false);
                member.trim(0, 4096, false);

                assertThat(member.zeroesFast(0, MIB, true)).as("learned from EOPNOTSUPP").isFalse();
                Arrays.fill(shadow, 4096, 4096 + MIB, (byte) 0);
                Arrays.fill(shadow, 2 * MIB, 3 * MIB + 512, (byte) 0);
                assertDeviceHolds(member, shadow);
            }
        } finally {
            loops.close();
            deleteTree(tmpfsDir);
        }
    }

    @Test
    void shouldZeroPartialSectorsAtTheEndsOn4kSectors() throws IOException {
        Path device = loops.attach(sparseFile(dir, 1, 4L * MIB), 4096);
        try (BlockMember member = BlockMember.open(device, false)) {
            byte[] shadow = new byte[4 * MIB];
            fill(shadow, new Random(7));
            member.write(ByteBuffer.wrap(shadow), 0, false);

            member.writeZeroes(512, 3 * 512, true, false);
            member.writeZeroes(8192 + 1024, MIB, true, false);
            member.writeZeroes(2 * MIB + 512, 8192, false, false);

            Arrays.fill(shadow, 512, 4 * 512, (byte) 0);
            Arrays.fill(shadow, 8192 + 1024, 8192 + 1024 + MIB, (byte) 0);
            Arrays.fill(shadow, 2 * MIB + 512, 2 * MIB + 512 + 8192, (byte) 0);
            assertDeviceHolds(member, shadow);
        }
    }

    @Test
    void shouldRefuseRangesOutsideTheDevice() throws IOException {
        Path device = loops.attach(sparseFile(dir, 1, MIB));
        try (BlockMember member = BlockMember.open(device, false)) {
            assertThatThrownBy(() -> member.write(ByteBuffer.allocate(1024), MIB - 512, false))
                    .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining(device.toString());
            assertThatThrownBy(() -> member.read(ByteBuffer.allocate(1), -1))
                    .isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> member.trim(MIB, 512, false)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void shouldRefuseWhatIsNotABlockDevice() throws IOException {
        Path file = sparseFile(dir, 1, MIB);

        assertThatThrownBy(() -> BlockMember.open(file, false))
                .hasMessage(file + " is a regular file, not a block device");
        assertThatThrownBy(() -> BlockMember.open(Path.of("/dev/null"), true))
                .hasMessage("/dev/null is a character device, not a block device");
    }

    private static Path sparseFile(Path dir, int n, long size) throws IOException {
        return LoopDevices.backingFile(dir.resolve(n + ".img"), size);
    }

    /**
     * {@code length} bytes as the window of a larger buffer, at an address {@code shift} bytes
     * past 4096-alignment (direct) or at array offset {@code shift} (heap), with guard bytes
     * around it.
     */
    private static ByteBuffer window(boolean direct, int shift, int length) {
        ByteBuffer whole = direct ? NativeIo.alignedBuffer(length + 2 * 4096) : ByteBuffer.allocate(length + 2 * 4096);
        for (int i = 0; i < whole.capacity(); i++) {
            whole.put(i, (byte) 0xee);
        }
        return whole.position(shift).limit(shift + length);
    }

    /** Checks that {@code dst}'s window (just filled, position at its end) holds the shadow, guards intact. */
    private static void assertWindowHolds(ByteBuffer dst, byte[] shadow, long offset, int length) {
        int start = dst.position() - length;
        byte[] got = new byte[length];
        dst.get(start, got);
        assertThat(Arrays.mismatch(got, Arrays.copyOfRange(shadow, (int) offset, (int) offset + length)))
                .as("first wrong byte of %d read at %d", length, offset).isEqualTo(-1);
        assertThat(dst.get(start - 1)).as("guard before the window").isEqualTo((byte) 0xee);
        assertThat(dst.duplicate().clear().get(dst.position())).as("guard after the window").isEqualTo((byte) 0xee);
    }

    private static void assertDeviceHolds(BlockMember member, byte[] shadow) throws IOException {
        byte[] back = new byte[shadow.length];
        member.read(ByteBuffer.wrap(back), 0);
        assertThat(Arrays.mismatch(back, shadow)).as("first byte that differs from what was written").isEqualTo(-1);
    }

    private static void fill(ByteBuffer buffer, Random random) {
        byte[] bytes = new byte[buffer.remaining()];
        random.nextBytes(bytes);
        buffer.put(buffer.position(), bytes);
    }

    private static void fill(byte[] bytes, Random random) {
        random.nextBytes(bytes);
    }

    private static void deleteTree(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
