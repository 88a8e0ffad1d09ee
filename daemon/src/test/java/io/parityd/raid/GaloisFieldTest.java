package io.parityd.raid;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * GF(2⁸) with polynomial 0x11d against values worked out by hand: {@code g⁸ = 0x100 ^ 0x11d =
 * 0x1d}, {@code 2·0x8e = 0x11c ^ 0x11d = 1} (so 0x8e is 2's inverse), {@code 3·7 = 0b1001}
 * (carry-less, no reduction), {@code 0x10·0x10 = 0x100 -> 0x1d}.
 */
class GaloisFieldTest {

    @Test
    void shouldHaveKnownPowersOfTheGenerator() {
        assertThat(GaloisField.pow2(0)).isEqualTo(1);
        assertThat(GaloisField.pow2(1)).isEqualTo(2);
        assertThat(GaloisField.pow2(7)).isEqualTo(0x80);
        assertThat(GaloisField.pow2(8)).isEqualTo(0x1d);
        assertThat(GaloisField.pow2(9)).isEqualTo(0x3a);
        assertThat(GaloisField.pow2(25)).isEqualTo(0x03);
        assertThat(GaloisField.pow2(254)).isEqualTo(0x8e);
        assertThat(GaloisField.pow2(255)).isEqualTo(1);
        assertThat(GaloisField.pow2(-1)).isEqualTo(0x8e);
        assertThat(GaloisField.log(0x1d)).isEqualTo(8);
        assertThat(GaloisField.log(3)).isEqualTo(25);
    }

    @Test
    void shouldMultiplyKnownProducts() {
        assertThat(GaloisField.mul(3, 7)).isEqualTo(9);
        assertThat(GaloisField.mul(0x10, 0x10)).isEqualTo(0x1d);
        assertThat(GaloisField.mul(0x80, 2)).isEqualTo(0x1d);
        assertThat(GaloisField.mul(0x8e, 2)).isEqualTo(1);
        assertThat(GaloisField.mul(0, 0x57)).isZero();
        assertThat(GaloisField.inverse(2)).isEqualTo(0x8e);
        assertThat(GaloisField.div(0x1d, 0x80)).isEqualTo(2);
        assertThat(GaloisField.times2(0x80)).isEqualTo(0x1d);
        assertThat(GaloisField.times2(0x40)).isEqualTo(0x80);
    }

    @Test
    void shouldAgreeWithShiftAndAddMultiplicationEverywhere() {
        for (int a = 0; a < 256; a++) {
            for (int b = 0; b < 256; b++) {
                assertThat(GaloisField.mul(a, b)).as("%d * %d", a, b).isEqualTo(slowMul(a, b));
                assertThat(GaloisField.mulRow(a)[b] & 0xff).isEqualTo(slowMul(a, b));
            }
            if (a != 0) {
                assertThat(GaloisField.mul(a, GaloisField.inverse(a))).isEqualTo(1);
            }
        }
    }

    @Test
    void shouldMultiplyEightBytesByTwoAtOnce() {
        long v = 0x80_40_01_ff_00_8e_1d_c3L;
        long got = DirectMemory.times2(v);
        for (int i = 0; i < 8; i++) {
            int b = (int) (v >>> (8 * i)) & 0xff;
            assertThat((int) (got >>> (8 * i)) & 0xff).as("byte %d", i).isEqualTo(slowMul(b, 2));
        }
    }

    @Test
    void shouldRefuseTheLogarithmOfZero() {
        assertThatThrownBy(() -> GaloisField.log(0)).isInstanceOf(ArithmeticException.class);
        assertThatThrownBy(() -> GaloisField.inverse(0)).isInstanceOf(ArithmeticException.class);
    }

    /** Carry-less multiply with reduction per shift: the definition, independent of the tables. */
    private static int slowMul(int a, int b) {
        int r = 0;
        while (b != 0) {
            if ((b & 1) != 0) {
                r ^= a;
            }
            a <<= 1;
            if ((a & 0x100) != 0) {
                a ^= 0x11d;
            }
            b >>>= 1;
        }
        return r;
    }

    static int slowMulForTests(int a, int b) {
        return slowMul(a, b);
    }
}
