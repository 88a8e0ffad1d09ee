package io.parityd.raid;

import java.nio.ByteBuffer;

/**
 * Solving a RAID-6 stripe for lost data chunks (Anvin, "The mathematics of RAID-6", §4). The
 * caller gathers the partial syndromes, P and Q recomputed with the lost chunks taken as zero
 * ({@code Px}, {@code Qxy}, ...), XORs them into the stored P and Q, and hands the results here;
 * this class only does the field arithmetic that turns them into data. The other cases need no
 * arithmetic of their own: one lost data chunk with P alive is {@code P ^ Px} ({@link Parity});
 * lost P or Q is recomputed from the data.
 */
public final class Raid6Recovery {

    private Raid6Recovery() {
    }

    /**
     * One lost data chunk {@code x} when P is lost too: on entry {@code buf} holds
     * {@code Q ^ Qx}, which is {@code gˣ·Dx}; on return it holds {@code Dx = g⁻ˣ·(Q ^ Qx)}.
     */
    public static void dataFromQ(ByteBuffer buf, int index, int length, int x) {
        QSyndrome.multiply(buf, index, length, GaloisField.pow2(-x));
    }

    /**
     * Two lost data chunks {@code x ≠ y}: on entry {@code bx} holds {@code P ^ Pxy} and {@code by}
     * holds {@code Q ^ Qxy}; on return {@code bx} holds {@code Dx} and {@code by} holds {@code Dy},
     * where {@code Dx = A·(P ^ Pxy) ^ B·(Q ^ Qxy)}, {@code Dy = (P ^ Pxy) ^ Dx},
     * {@code A = g^(y-x) / (g^(y-x) ^ 1)} and {@code B = g^(-x) / (g^(y-x) ^ 1)}.
     */
    public static void twoData(ByteBuffer bx, int xIndex, ByteBuffer by, int yIndex, int length, int x, int y) {
        if (x == y || x < 0 || y < 0) {
            throw new IllegalArgumentException("two distinct data indices needed, got " + x + " and " + y);
        }
        checkRange(bx, xIndex, length);
        checkRange(by, yIndex, length);
        int gyx = GaloisField.pow2(y - x);
        int denominator = GaloisField.inverse(gyx ^ 1);
        byte[] rowA = GaloisField.mulRow(GaloisField.mul(gyx, denominator));
        byte[] rowB = GaloisField.mulRow(GaloisField.mul(GaloisField.pow2(-x), denominator));
        if (DirectMemory.AVAILABLE && bx.isDirect() && by.isDirect()) {
            DirectMemory.twoData(DirectMemory.address(bx) + xIndex, DirectMemory.address(by) + yIndex, length,
                    rowA, rowB);
            return;
        }
        for (int i = 0; i < length; i++) {
            int pp = bx.get(xIndex + i) & 0xff;
            int dx = rowA[pp] ^ rowB[by.get(yIndex + i) & 0xff];
            bx.put(xIndex + i, (byte) dx);
            by.put(yIndex + i, (byte) (pp ^ dx));
        }
    }

    private static void checkRange(ByteBuffer buf, int index, int length) {
        if (buf.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        if (index < 0 || length < 0 || index > buf.limit() - length) {
            throw new IndexOutOfBoundsException(
                    "range [" + index + ", +" + length + ") outside buffer limit " + buf.limit());
        }
    }
}
