package io.parityd.raid;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Q known answers worked by hand, and Q, its in-place update and every RAID-6 recovery against a
 * byte-at-a-time reference built from the definition {@code Q = Σ gⁱ·Dᵢ}, on heap and direct
 * buffers, at lengths around the eight-byte fast path.
 */
class QSyndromeTest {

    @Test
    void shouldComputeQOfTinyVectorsByHand() {
        // 1 ^ 2 ^ 4 = 7
        assertThat(q(new int[] {1}, new int[] {1}, new int[] {1})).containsExactly(7);
        // 0x80 ^ 2·0x80 = 0x80 ^ 0x1d = 0x9d
        assertThat(q(new int[] {0x80}, new int[] {0x80})).containsExactly(0x9d);
        // 1 ^ 2·0x80 ^ 4·0x40 = 1 ^ 0x1d ^ 0x1d = 1
        assertThat(q(new int[] {1}, new int[] {0x80}, new int[] {0x40})).containsExactly(1);
        // 0x12 ^ 2·0x34 ^ 4·0x56 ^ 8·0x78 = 0x12 ^ 0x68 ^ 0x45 ^ 0xe7 = 0xd8
        assertThat(q(new int[] {0x12}, new int[] {0x34}, new int[] {0x56}, new int[] {0x78})).containsExactly(0xd8);
    }

    @Test
    void shouldTreatANullChunkAsZeroes() {
        // 1 ^ 2·0 ^ 4·0x40 = 1 ^ 0x1d = 0x1c
        assertThat(q(new int[] {1}, null, new int[] {0x40})).containsExactly(0x1c);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 8, 9, 17, 64, 4099})
    void shouldMatchTheDefinitionOnHeapAndDirectBuffers(int length) {
        for (boolean direct : new boolean[] {true, false}) {
            Random random = new Random(length);
            ByteBuffer[] data = new ByteBuffer[5];
            for (int d = 0; d < data.length; d++) {
                data[d] = random(random, length, direct);
            }
            ByteBuffer q = direct ? ByteBuffer.allocateDirect(length) : ByteBuffer.allocate(length);
            QSyndrome.compute(q, data);
            assertThat(bytes(q)).isEqualTo(reference(data, length));

            ByteBuffer p = direct ? ByteBuffer.allocateDirect(length) : ByteBuffer.allocate(length);
            ByteBuffer q2 = direct ? ByteBuffer.allocateDirect(length) : ByteBuffer.allocate(length);
            for (int d = data.length - 1; d >= 0; d--) {
                QSyndrome.pqStep(p, 0, q2, 0, data[d], 0, length);
            }
            assertThat(bytes(q2)).isEqualTo(reference(data, length));
            ByteBuffer expectedP = ByteBuffer.allocate(length);
            Parity.compute(expectedP, data);
            assertThat(bytes(p)).isEqualTo(expectedP.array());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 8, 13, 4096})
    void shouldUpdateQInPlaceAsIfRecomputed(int length) {
        Random random = new Random(7 * length);
        ByteBuffer[] data = {random(random, length, true), random(random, length, false), random(random, length, true),
                random(random, length, true)};
        ByteBuffer q = ByteBuffer.allocateDirect(length);
        QSyndrome.compute(q, data);
        ByteBuffer newData = random(random, length, true);
        QSyndrome.update(q, 0, data[2], 0, newData, 0, length, 2);
        data[2] = newData;
        assertThat(bytes(q)).isEqualTo(reference(data, length));

        ByteBuffer heapNew = random(random, length, false);
        QSyndrome.update(q, 0, data[1], 0, heapNew, 0, length, 1);
        data[1] = heapNew;
        assertThat(bytes(q)).isEqualTo(reference(data, length));
    }

    @Test
    void shouldRecoverOneDataChunkFromQAlone() {
        int length = 100;
        Random random = new Random(3);
        ByteBuffer[] data = {random(random, length, true), random(random, length, true), random(random, length, true)};
        ByteBuffer q = ByteBuffer.allocateDirect(length);
        QSyndrome.compute(q, data);
        for (int x = 0; x < 3; x++) {
            ByteBuffer[] partial = data.clone();
            partial[x] = null;
            ByteBuffer buf = ByteBuffer.allocateDirect(length);
            QSyndrome.compute(buf, partial);
            Parity.xorInto(buf, 0, q, 0, length);
            Raid6Recovery.dataFromQ(buf, 0, length, x);
            assertThat(bytes(buf)).as("D%d", x).isEqualTo(bytes(data[x]));
        }
    }

    @Test
    void shouldRecoverEveryPairOfDataChunksFromPAndQ() {
        int length = 77;
        for (boolean direct : new boolean[] {true, false}) {
            Random random = new Random(11);
            ByteBuffer[] data = new ByteBuffer[6];
            for (int d = 0; d < data.length; d++) {
                data[d] = random(random, length, direct);
            }
            ByteBuffer p = ByteBuffer.allocate(length);
            Parity.compute(p, data);
            ByteBuffer q = ByteBuffer.allocate(length);
            QSyndrome.compute(q, data);
            for (int x = 0; x < data.length; x++) {
                for (int y = x + 1; y < data.length; y++) {
                    ByteBuffer[] partial = data.clone();
                    partial[x] = null;
                    partial[y] = null;
                    ByteBuffer bx = direct ? ByteBuffer.allocateDirect(length) : ByteBuffer.allocate(length);
                    ByteBuffer by = direct ? ByteBuffer.allocateDirect(length) : ByteBuffer.allocate(length);
                    Parity.compute(bx, nonNull(partial));
                    Parity.xorInto(bx, 0, p, 0, length);
                    QSyndrome.compute(by, partial);
                    Parity.xorInto(by, 0, q, 0, length);
                    Raid6Recovery.twoData(bx, 0, by, 0, length, x, y);
                    assertThat(bytes(bx)).as("D%d of (%d, %d)", x, x, y).isEqualTo(bytes(data[x]));
                    assertThat(bytes(by)).as("D%d of (%d, %d)", y, x, y).isEqualTo(bytes(data[y]));
                }
            }
        }
    }

    @Test
    void shouldRefuseBadArguments() {
        ByteBuffer a = ByteBuffer.allocate(8);
        assertThatThrownBy(() -> Raid6Recovery.twoData(a, 0, ByteBuffer.allocate(8), 0, 8, 2, 2))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> QSyndrome.step(a, 4, ByteBuffer.allocate(8), 0, 8))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> QSyndrome.times2(a.asReadOnlyBuffer(), 0, 8))
                .isInstanceOf(java.nio.ReadOnlyBufferException.class);
    }

    private static int[] q(int[]... chunks) {
        ByteBuffer[] data = new ByteBuffer[chunks.length];
        int length = 0;
        for (int d = 0; d < chunks.length; d++) {
            if (chunks[d] == null) {
                continue;
            }
            length = chunks[d].length;
            data[d] = ByteBuffer.allocate(length);
            for (int v : chunks[d]) {
                data[d].put((byte) v);
            }
            data[d].flip();
        }
        ByteBuffer q = ByteBuffer.allocate(length);
        QSyndrome.compute(q, data);
        int[] out = new int[length];
        for (int i = 0; i < length; i++) {
            out[i] = q.get(i) & 0xff;
        }
        return out;
    }

    private static byte[] reference(ByteBuffer[] data, int length) {
        byte[] out = new byte[length];
        for (int d = 0; d < data.length; d++) {
            int coefficient = 1;
            for (int i = 0; i < d; i++) {
                coefficient = GaloisFieldTest.slowMulForTests(coefficient, 2);
            }
            for (int i = 0; i < length; i++) {
                out[i] ^= (byte) GaloisFieldTest.slowMulForTests(coefficient, data[d].get(i) & 0xff);
            }
        }
        return out;
    }

    private static ByteBuffer[] nonNull(ByteBuffer[] data) {
        return java.util.Arrays.stream(data).filter(java.util.Objects::nonNull).toArray(ByteBuffer[]::new);
    }

    private static ByteBuffer random(Random random, int length, boolean direct) {
        byte[] b = new byte[length];
        random.nextBytes(b);
        ByteBuffer buf = direct ? ByteBuffer.allocateDirect(length) : ByteBuffer.allocate(length);
        return buf.put(b).flip();
    }

    private static byte[] bytes(ByteBuffer buf) {
        byte[] out = new byte[buf.limit()];
        buf.get(0, out);
        return out;
    }
}
