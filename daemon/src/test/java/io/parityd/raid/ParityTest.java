package io.parityd.raid;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ParityTest {

    @Test
    void shouldXorKnownVectors() {
        ByteBuffer p = ByteBuffer.allocate(3);
        Parity.compute(p,
                ByteBuffer.wrap(new byte[] {(byte) 0x0F, (byte) 0xAA, (byte) 0x01}),
                ByteBuffer.wrap(new byte[] {(byte) 0xF0, (byte) 0x55, (byte) 0x01}),
                ByteBuffer.wrap(new byte[] {(byte) 0x3C, (byte) 0xFF, (byte) 0x80}));
        // 0F^F0^3C = C3, AA^55^FF = 00, 01^01^80 = 80
        assertThat(p.array()).containsExactly((byte) 0xC3, (byte) 0x00, (byte) 0x80);
    }

    @Test
    void shouldXorKnownVectorAcrossLongAndTail() {
        // 11 bytes: one long plus a 3-byte tail, on a direct accumulator.
        byte[] a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        byte[] b = {(byte) 0xFF, 0, (byte) 0xFF, 0, (byte) 0xFF, 0, (byte) 0xFF, 0, (byte) 0xFF, 0, (byte) 0xFF};
        ByteBuffer acc = ByteBuffer.allocateDirect(11).put(a).flip();
        Parity.xorInto(acc, ByteBuffer.wrap(b));
        byte[] out = new byte[11];
        acc.get(0, out);
        assertThat(out).containsExactly((byte) 0xFE, 2, (byte) 0xFC, 4, (byte) 0xFA, 6, (byte) 0xF8, 8,
                (byte) 0xF6, 10, (byte) 0xF4);
    }

    @Test
    void shouldMakeZeroParityFromNoData() {
        ByteBuffer p = ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        Parity.compute(p);
        assertThat(p.array()).containsOnly(0);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 8, 9, 63, 511, 512, 4097})
    void shouldMatchRecomputedParityAfterUpdate(int length) {
        Random random = new Random(length);
        ByteBuffer[] data = {bytes(random, length, true, 3), bytes(random, length, false, 0), bytes(random, length, true, 5)};
        ByteBuffer p = bytes(random, length, false, 7);
        Parity.compute(p, data);

        ByteBuffer newData = bytes(random, length, false, 1);
        Parity.update(p, p.position(), data[1], data[1].position(), newData, newData.position(), length);
        data[1] = newData;

        ByteBuffer expected = ByteBuffer.allocate(length);
        for (int i = 0; i < length; i++) {
            expected.put(i, (byte) (data[0].get(data[0].position() + i) ^ data[1].get(data[1].position() + i)
                    ^ data[2].get(data[2].position() + i)));
        }
        assertThat(p.mismatch(expected)).isEqualTo(-1);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 8, 13, 100, 1000})
    void shouldXorAtNonZeroIndicesWithoutTouchingAnythingElse(int length) {
        Random random = new Random(31 * length);
        ByteBuffer acc = bytes(random, length + 40, true, 0).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer src = bytes(random, length + 40, false, 0).asReadOnlyBuffer();
        byte[] before = new byte[acc.capacity()];
        acc.get(0, before);

        Parity.xorInto(acc, 17, src, 3, length);

        for (int i = 0; i < acc.capacity(); i++) {
            byte want = i >= 17 && i < 17 + length ? (byte) (before[i] ^ src.get(i - 14)) : before[i];
            assertThat(acc.get(i)).as("byte %d", i).isEqualTo(want);
        }
        assertThat(acc.position()).isZero();
        assertThat(src.position()).isZero();
        assertThat(acc.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void shouldCancelWhenXoredTwice() {
        Random random = new Random(5);
        ByteBuffer acc = bytes(random, 4099, true, 0);
        ByteBuffer copy = ByteBuffer.allocate(4099).put(acc.duplicate()).flip();
        ByteBuffer src = bytes(random, 4099, false, 0);
        Parity.xorInto(acc, src);
        assertThat(acc.mismatch(copy)).isNotEqualTo(-1);
        Parity.xorInto(acc, src);
        assertThat(acc.mismatch(copy)).isEqualTo(-1);
    }

    @Test
    void shouldClearRange() {
        ByteBuffer buf = ByteBuffer.allocateDirect(30);
        for (int i = 0; i < 30; i++) {
            buf.put(i, (byte) (i + 1));
        }
        Parity.clear(buf, 3, 21);
        for (int i = 0; i < 30; i++) {
            assertThat(buf.get(i)).isEqualTo(i >= 3 && i < 24 ? (byte) 0 : (byte) (i + 1));
        }
    }

    @Test
    void shouldRefuseRangesBeyondTheLimitBeforeWritingAnything() {
        ByteBuffer acc = ByteBuffer.allocate(16);
        ByteBuffer src = ByteBuffer.allocate(16).put(0, (byte) 1);
        assertThatThrownBy(() -> Parity.xorInto(acc, 0, src, 8, 16)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(acc.get(0)).isZero();
    }

    /** Random bytes at a non-zero position {@code offset} of a heap or direct buffer. */
    private static ByteBuffer bytes(Random random, int length, boolean direct, int offset) {
        byte[] b = new byte[length + offset];
        random.nextBytes(b);
        ByteBuffer buf = direct ? ByteBuffer.allocateDirect(b.length) : ByteBuffer.allocate(b.length);
        buf.put(b).position(offset);
        return buf;
    }
}
