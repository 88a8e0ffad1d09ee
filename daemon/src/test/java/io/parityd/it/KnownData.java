package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;

/**
 * The first {@link #REGION} bytes of a volume filled with seeded random data and compared byte
 * for byte later. fio's {@code --verify_only} (3.33) checks each block's CRC and offset but not
 * which write put it there, so it cannot see a lost write that left an older fio block behind;
 * this can. {@link Fio} keeps its I/O beyond this region.
 */
final class KnownData {

    static final long REGION = 32L << 20;
    private static final int BLOCK = 1 << 20;

    private final long seed;

    KnownData(long seed) {
        this.seed = seed;
    }

    private byte[] block(int index) {
        byte[] data = new byte[BLOCK];
        new SplittableRandom(seed * 1_000_003 + index).nextBytes(data);
        return data;
    }

    void write(String uri, String export) throws Exception {
        try (RawNbdClient c = RawNbdClient.open(uri, export, false)) {
            for (int i = 0; i < REGION / BLOCK; i++) {
                c.write((long) i * BLOCK, block(i));
            }
        }
    }

    void assertIntact(String uri, String export) throws Exception {
        try (RawNbdClient c = RawNbdClient.open(uri, export, true)) {
            for (int i = 0; i < REGION / BLOCK; i++) {
                assertThat(c.read((long) i * BLOCK, BLOCK)).as("known data, MiB %d", i).isEqualTo(block(i));
            }
        }
    }
}
