package io.parityd.block;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The behaviour every {@link BlockDevice} promises, run against each implementation (as Ratis
 * runs one suite per transport). A test class extends this, supplies {@link #newDevice(long)},
 * and, if its device wants aligned requests, overrides {@link #alignment()}.
 *
 * <p>Each case keeps a shadow copy of what the device should hold and compares whole ranges, so
 * a write that lands in the wrong place or spills over a neighbour fails, not just one that is
 * lost.
 */
public abstract class BlockDeviceContract {

    /** Size asked of {@link #newDevice(long)}: several MiB, so ranges cross any chunk size. */
    protected static final long DEVICE_SIZE = 8L << 20;

    private static final long SEED = 0x5eed_b10cL;

    /**
     * A fresh device of at least {@code minSize} bytes that reads zeroes everywhere (a new sparse
     * file, a freshly created array). The test closes it.
     */
    protected abstract BlockDevice newDevice(long minSize) throws IOException;

    /** Granularity the device wants offsets and lengths in; 1 for none. */
    protected int alignment() {
        return 1;
    }

    @Test
    void shouldReportItsSizeAndDescribeItself() throws IOException {
        try (BlockDevice device = newDevice(DEVICE_SIZE)) {
            assertThat(device.size()).isGreaterThanOrEqualTo(DEVICE_SIZE);
            assertThat(device.describe()).isNotBlank();
        }
    }

    @Test
    void shouldReadZeroesWhereNothingWasWritten() throws IOException {
        try (BlockDevice device = newDevice(DEVICE_SIZE)) {
            assertContent(device, new byte[(int) device.size()], 0, device.size());
        }
    }

    @Test
    void shouldReadBackWritesAtOddOffsetsAndLeaveNeighboursAlone() throws IOException {
        try (BlockDevice device = newDevice(DEVICE_SIZE)) {
            byte[] shadow = new byte[(int) device.size()];
            Random random = new Random(SEED);
            for (long[] range : oddRanges(device.size())) {
                write(device, shadow, range[0], (int) range[1], random, false);
                assertContent(device, shadow, range[0], range[1]);
            }
            assertContent(device, shadow, 0, device.size());
        }
    }

    @ParameterizedTest(name = "mayDeallocate={0}")
    @ValueSource(booleans = {true, false})
    void shouldReadZeroesAfterWriteZeroes(boolean mayDeallocate) throws IOException {
        try (BlockDevice device = newDevice(DEVICE_SIZE)) {
            byte[] shadow = new byte[(int) device.size()];
            Random random = new Random(SEED);
            write(device, shadow, 0, shadow.length, random, false);
            for (long[] range : oddRanges(device.size())) {
                device.writeZeroes(range[0], range[1], mayDeallocate, false);
                Arrays.fill(shadow, (int) range[0], (int) (range[0] + range[1]), (byte) 0);
                assertContent(device, shadow, range[0], range[1]);
            }
            assertContent(device, shadow, 0, device.size());
        }
    }

    @Test
    void shouldReadOldDataOrZeroesAfterTrim() throws IOException {
        try (BlockDevice device = newDevice(DEVICE_SIZE)) {
            byte[] shadow = new byte[(int) device.size()];
            write(device, shadow, 0, shadow.length, new Random(SEED), false);
            long offset = aligned(1_000_003);
            long length = aligned(3_000_017);
            device.trim(offset, length, false);

            byte[] back = read(device, 0, shadow.length);
            for (int i = 0; i < back.length; i++) {
                boolean inTrimmed = i >= offset && i < offset + length;
                if (!inTrimmed || back[i] != 0) {
                    assertThat(back[i]).as("byte %d (trimmed: %s)", i, inTrimmed).isEqualTo(shadow[i]);
                }
            }
        }
    }

    @Test
    void shouldAcceptFuaAndFlush() throws IOException {
        try (BlockDevice device = newDevice(DEVICE_SIZE)) {
            byte[] shadow = new byte[(int) device.size()];
            Random random = new Random(SEED);
            write(device, shadow, aligned(12_345), (int) aligned(70_000), random, true);
            device.writeZeroes(aligned(20_000), aligned(5_000), true, true);
            device.writeZeroes(aligned(40_000), aligned(5_000), false, true);
            Arrays.fill(shadow, (int) aligned(20_000), (int) (aligned(20_000) + aligned(5_000)), (byte) 0);
            Arrays.fill(shadow, (int) aligned(40_000), (int) (aligned(40_000) + aligned(5_000)), (byte) 0);
            device.trim(aligned(1 << 20), aligned(1 << 20), true);
            device.flush();

            assertContent(device, shadow, 0, 1 << 20);
        }
    }

    @Test
    void shouldChangeNothingWhenAskedWhetherZeroingIsFast() throws IOException {
        try (BlockDevice device = newDevice(DEVICE_SIZE)) {
            byte[] shadow = new byte[(int) device.size()];
            write(device, shadow, 0, shadow.length, new Random(SEED), false);
            device.zeroesFast(0, device.size(), true);
            device.zeroesFast(0, device.size(), false);

            assertContent(device, shadow, 0, device.size());
        }
    }

    @Test
    void shouldKeepConcurrentWritesToDisjointRanges() throws Exception {
        int threads = 16;
        int rounds = 8;
        try (BlockDevice device = newDevice(DEVICE_SIZE)) {
            int region = (int) (device.size() / threads / alignment() * alignment());
            byte[][] last = new byte[threads][];
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Callable<Void>> writers = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int index = t;
                    writers.add(() -> {
                        start.await();
                        last[index] = writeRounds(device, (long) index * region, region, rounds, new Random(index));
                        return null;
                    });
                }
                List<Future<Void>> done = new ArrayList<>();
                writers.forEach(w -> done.add(pool.submit(w)));
                start.countDown();
                for (Future<Void> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            for (int t = 0; t < threads; t++) {
                assertSameBytes(read(device, (long) t * region, region), last[t], (long) t * region);
            }
        }
    }

    /** Rewrites one region {@code rounds} times in odd-sized pieces; returns what it last wrote. */
    private byte[] writeRounds(BlockDevice device, long base, int region, int rounds, Random random)
            throws IOException {
        byte[] content = new byte[region];
        int piece = (int) Math.max(alignment(), aligned(region / 3 + 7));
        for (int round = 0; round < rounds; round++) {
            random.nextBytes(content);
            for (int at = 0; at < region; at += piece) {
                int length = Math.min(piece, region - at);
                device.write(ByteBuffer.wrap(content, at, length), base + at, false);
            }
        }
        return content;
    }

    /**
     * Ranges that start and end off any power-of-two boundary (when the device allows), cross
     * 4 KiB, 64 KiB and 1 MiB boundaries, and touch both ends of the device.
     */
    private List<long[]> oddRanges(long size) {
        long[][] raw = {
            {0, 1}, {1, 4095}, {4095, 2}, {65_535, 131_073}, {1_000_003, 300_001},
            {(1 << 20) - 17, 70_000}, {3L << 20, 1 << 20}, {size - 12_345, 12_345}, {size - 1, 1},
        };
        List<long[]> ranges = new ArrayList<>();
        for (long[] r : raw) {
            long offset = aligned(r[0]);
            long length = Math.min(Math.max(alignment(), aligned(r[1])), size - offset);
            ranges.add(new long[] {offset, length});
        }
        return ranges;
    }

    private long aligned(long value) {
        return value / alignment() * alignment();
    }

    private static void write(BlockDevice device, byte[] shadow, long offset, int length, Random random,
                              boolean fua) throws IOException {
        byte[] data = new byte[length];
        random.nextBytes(data);
        device.write(ByteBuffer.wrap(data), offset, fua);
        System.arraycopy(data, 0, shadow, (int) offset, length);
    }

    private static byte[] read(BlockDevice device, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        device.read(buffer, offset);
        return buffer.array();
    }

    private static void assertContent(BlockDevice device, byte[] shadow, long offset, long length)
            throws IOException {
        byte[] expected = Arrays.copyOfRange(shadow, (int) offset, (int) (offset + length));
        assertSameBytes(read(device, offset, (int) length), expected, offset);
    }

    /** Names the first differing device offset instead of printing megabytes of array. */
    private static void assertSameBytes(byte[] actual, byte[] expected, long deviceOffset) {
        int mismatch = Arrays.mismatch(actual, expected);
        if (mismatch >= 0) {
            assertThat(actual[mismatch]).as("byte at device offset %d (read of %d bytes from %d)",
                    deviceOffset + mismatch, expected.length, deviceOffset).isEqualTo(expected[mismatch]);
        }
    }
}
