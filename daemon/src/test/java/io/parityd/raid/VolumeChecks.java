package io.parityd.raid;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Writing random data through a volume while keeping a byte-array model, and comparing them. */
final class VolumeChecks {

    static final int SECTOR = 512;

    private VolumeChecks() {
    }

    /** Fills the whole volume in random-sized pieces. */
    static void fill(RaidVolume volume, byte[] model, Random random) throws IOException {
        random.nextBytes(model);
        int at = 0;
        while (at < model.length) {
            int length = Math.min(model.length - at, SECTOR * (1 + random.nextInt(64)));
            volume.write(ByteBuffer.wrap(model, at, length).slice(), at, random.nextBoolean());
            at += length;
        }
    }

    /** {@code count} writes of random sizes (a sector to two stripes) at random sector offsets. */
    static void randomWrites(RaidVolume volume, byte[] model, Random random, int count) throws IOException {
        long stripe = volume.geometry().stripeDataSize();
        for (int i = 0; i < count; i++) {
            int length = randomLength(random, stripe, model.length);
            int offset = SECTOR * random.nextInt((model.length - length) / SECTOR + 1);
            byte[] data = new byte[length];
            random.nextBytes(data);
            ByteBuffer src = random.nextBoolean() ? ByteBuffer.wrap(data) : ByteBuffer.allocateDirect(length).put(data).flip();
            volume.write(src, offset, random.nextInt(8) == 0);
            System.arraycopy(data, 0, model, offset, length);
        }
    }

    static int randomLength(Random random, long stripeDataSize, int volumeSize) {
        int maxSectors = random.nextBoolean() ? 16 : (int) (2 * stripeDataSize / SECTOR);
        return SECTOR * (1 + random.nextInt(Math.min(maxSectors, volumeSize / SECTOR)));
    }

    /** Reads the whole volume in random-sized pieces and compares with the model. */
    static void assertReads(RaidVolume volume, byte[] model, Random random, String what) throws IOException {
        int at = 0;
        while (at < model.length) {
            int length = Math.min(model.length - at, SECTOR * (1 + random.nextInt(40)));
            assertRange(volume, model, at, length, what);
            at += length;
        }
    }

    static void assertRange(RaidVolume volume, byte[] model, int offset, int length, String what) throws IOException {
        ByteBuffer got = ByteBuffer.allocateDirect(length);
        volume.read(got, offset);
        got.flip();
        int diff = got.mismatch(ByteBuffer.wrap(model, offset, length));
        assertThat(diff).as("%s: first difference at volume offset %d", what, offset + diff).isEqualTo(-1);
    }
}
