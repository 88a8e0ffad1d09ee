package io.parityd.raid;

/**
 * Arithmetic in GF(2⁸) with the polynomial x⁸+x⁴+x³+x²+1 (0x11d) and generator 2, the field of
 * RAID-6's Q syndrome (DESIGN.md "RAID"; H. P. Anvin, "The mathematics of RAID-6", §2). Addition
 * is XOR; multiplication goes through log and exp tables, or through a 256-entry row per constant
 * ({@link #mulRow}) where one constant multiplies a whole chunk.
 *
 * <p>The tables are built once from the definition ({@code g⁰ = 1, gⁱ⁺¹ = 2·gⁱ}), immutable, and
 * shared; nothing here allocates after class initialisation.
 */
final class GaloisField {

    /** The field polynomial, with its x⁸ bit. */
    static final int POLYNOMIAL = 0x11d;

    /** {@code EXP[i] = gⁱ} for {@code 0 ≤ i < 510}: twice round, so a sum of two logs needs no mod. */
    private static final int[] EXP = new int[510];
    /** {@code LOG[gⁱ] = i}; LOG[0] is unused (zero has no logarithm). */
    private static final int[] LOG = new int[256];
    /** {@code ROWS[c][x] = c·x}: 64 KiB, so a constant multiply is one load per byte. */
    private static final byte[][] ROWS = new byte[256][256];

    static {
        int x = 1;
        for (int i = 0; i < 255; i++) {
            EXP[i] = x;
            EXP[i + 255] = x;
            LOG[x] = i;
            x = times2(x);
        }
        for (int c = 0; c < 256; c++) {
            for (int v = 0; v < 256; v++) {
                ROWS[c][v] = (byte) mul(c, v);
            }
        }
    }

    private GaloisField() {
    }

    /** {@code 2·b}: shift, and reduce by the polynomial if the top bit fell off. */
    static int times2(int b) {
        int v = (b & 0xff) << 1;
        return (v & 0x100) != 0 ? v ^ POLYNOMIAL : v;
    }

    /** {@code a·b}. */
    static int mul(int a, int b) {
        a &= 0xff;
        b &= 0xff;
        if (a == 0 || b == 0) {
            return 0;
        }
        return EXP[LOG[a] + LOG[b]];
    }

    /** {@code gⁱ} for any integer {@code i}, negative included ({@code g²⁵⁵ = 1}). */
    static int pow2(int i) {
        return EXP[Math.floorMod(i, 255)];
    }

    /** The exponent {@code i} with {@code gⁱ = a}; {@code a} must not be zero. */
    static int log(int a) {
        if ((a & 0xff) == 0) {
            throw new ArithmeticException("zero has no logarithm");
        }
        return LOG[a & 0xff];
    }

    /** {@code a⁻¹}; {@code a} must not be zero. */
    static int inverse(int a) {
        return EXP[255 - log(a)];
    }

    /** {@code a / b}; {@code b} must not be zero. */
    static int div(int a, int b) {
        return mul(a, inverse(b));
    }

    /** The table {@code x -> c·x}, shared: callers must not write to it. */
    static byte[] mulRow(int c) {
        return ROWS[c & 0xff];
    }
}
