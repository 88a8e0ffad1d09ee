package io.parityd.raid;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Thousands of random aligned writes, zeroings and trims against a plain byte array: sizes from
 * one sector to several stripes, at any sector offset, so they cross chunk and stripe boundaries
 * every way. Random ranges are read back as it goes; at the end the whole volume must equal the
 * model, a scrub must find no parity mismatch, and member bytes outside the data area (where
 * the superblock lives) must be untouched.
 */
class Raid5VolumeModelTest {

    private static final int CHUNK = 4096;
    private static final int SECTOR = 512;
    private static final int OPERATIONS = 4000;
    private static final byte OUTSIDE = (byte) 0xA5;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} members, data offset {1}, seed {2}")
    @CsvSource({"3, 4096, 1", "4, 8192, 2", "5, 4096, 3", "5, 12288, 4", "7, 4096, 5"})
    void shouldMatchByteArrayModelInMemory(int members, long dataOffset, long seed) throws IOException {
        try (TestArray array = TestArray.inMemory(members, CHUNK, dataOffset, 24)) {
            markOutsideDataArea(array, dataOffset);
            run(array, new Random(seed), "seed " + seed);
            assertOutsideDataAreaUntouched(array, dataOffset);
        }
    }

    @ParameterizedTest(name = "{0} members on files, seed {1}")
    @CsvSource({"3, 11", "5, 12"})
    void shouldMatchByteArrayModelOnFiles(int members, long seed) throws IOException {
        try (TestArray array = TestArray.onFiles(dir, members, CHUNK, 8192, 16)) {
            run(array, new Random(seed), "seed " + seed);
        }
    }

    private void run(TestArray array, Random random, String what) throws IOException {
        RaidVolume volume = array.volume;
        byte[] model = new byte[(int) volume.size()];
        long sd = array.geometry.stripeDataSize();
        for (int op = 0; op < OPERATIONS; op++) {
            int kind = random.nextInt(100);
            int length = randomLength(random, sd, model.length);
            int offset = SECTOR * random.nextInt((model.length - length) / SECTOR + 1);
            if (kind < 65) {
                byte[] data = new byte[length];
                random.nextBytes(data);
                volume.write(ByteBuffer.wrap(data), offset, random.nextInt(10) == 0);
                System.arraycopy(data, 0, model, offset, length);
            } else if (kind < 78) {
                volume.writeZeroes(offset, length, random.nextBoolean(), random.nextInt(10) == 0);
                Arrays.fill(model, offset, offset + length, (byte) 0);
            } else if (kind < 88) {
                volume.trim(offset, length, false);
                trimModel(model, offset, length, sd);
            } else if (kind < 95) {
                assertRange(volume, model, offset, length, what + ", op " + op);
            } else {
                volume.flush();
            }
        }
        assertRange(volume, model, 0, model.length, what + ", whole volume");
        ScrubReport report = new ParityScrubber(volume).scrub(false, null);
        assertThat(report.stripesChecked()).isEqualTo(array.geometry.stripes());
        assertThat(report.mismatches()).as("%s: mismatching stripes %s", what, report.firstMismatches()).isZero();
    }

    /** Mostly small requests, which exercise read-modify-write; some up to three stripes. */
    private static int randomLength(Random random, long stripeDataSize, int volumeSize) {
        int maxSectors = random.nextBoolean() ? 2 * CHUNK / SECTOR : (int) (3 * stripeDataSize / SECTOR);
        return SECTOR * (1 + random.nextInt(Math.min(maxSectors, volumeSize / SECTOR)));
    }

    /** The volume's documented trim: whole stripes read back as zeroes, partial ones unchanged. */
    private static void trimModel(byte[] model, int offset, int length, long sd) {
        long from = (offset + sd - 1) / sd * sd;
        long to = (offset + length) / sd * sd;
        if (from < to) {
            Arrays.fill(model, (int) from, (int) to, (byte) 0);
        }
    }

    private static void assertRange(RaidVolume volume, byte[] model, int offset, int length, String what)
            throws IOException {
        ByteBuffer got = ByteBuffer.allocateDirect(length);
        volume.read(got, offset);
        got.flip();
        ByteBuffer want = ByteBuffer.wrap(model, offset, length);
        int at = got.mismatch(want);
        assertThat(at).as("%s: first difference at volume offset %d", what, offset + at).isEqualTo(-1);
    }

    private static void markOutsideDataArea(TestArray array, long dataOffset) {
        for (MemoryDevice m : array.media) {
            byte[] head = new byte[(int) dataOffset];
            Arrays.fill(head, OUTSIDE);
            m.poke(0, head);
            int tailAt = (int) (dataOffset + array.geometry.memberDataSize());
            byte[] tail = new byte[(int) m.size() - tailAt];
            Arrays.fill(tail, OUTSIDE);
            m.poke(tailAt, tail);
        }
    }

    private static void assertOutsideDataAreaUntouched(TestArray array, long dataOffset) {
        for (MemoryDevice m : array.media) {
            assertThat(m.snapshot(0, (int) dataOffset)).as("%s before data offset", m.describe()).containsOnly(OUTSIDE);
            int tailAt = (int) (dataOffset + array.geometry.memberDataSize());
            assertThat(m.snapshot(tailAt, (int) m.size() - tailAt)).as("%s after data area", m.describe())
                    .containsOnly(OUTSIDE);
        }
    }
}
