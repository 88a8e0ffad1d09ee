package io.parityd.raid;

import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import sun.misc.Unsafe;

/**
 * Raw 64-bit loads and stores on direct buffers, for the parity loops. {@code ByteBuffer}'s own
 * accessors reach memory speed only while the JIT has seen a single buffer class at the call
 * site; once heap and direct buffers both pass (the unit tests do, a future code path might) they
 * fall to about 3 GB/s, which on two cores costs a third of the sequential write rate. Addresses
 * and {@link Unsafe} keep the loop monomorphic whatever else runs. Callers check bounds before
 * the loop; nothing here does.
 *
 * <p>{@code sun.misc.Unsafe} lives in {@code jdk.unsupported}, readable without JVM flags. If it
 * is somehow unavailable, {@link #AVAILABLE} is false and {@link Parity} uses its portable loops.
 */
final class DirectMemory {

    static final boolean AVAILABLE;
    private static final Unsafe UNSAFE;
    private static final long ADDRESS_OFFSET;

    static {
        Unsafe unsafe = null;
        long offset = -1;
        try {
            Field field = Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            unsafe = (Unsafe) field.get(null);
            // Reading Buffer.address through its field offset needs no access to java.nio internals.
            offset = unsafe.objectFieldOffset(Buffer.class.getDeclaredField("address"));
        } catch (ReflectiveOperationException | RuntimeException e) {
            unsafe = null;
        }
        UNSAFE = unsafe;
        ADDRESS_OFFSET = offset;
        AVAILABLE = unsafe != null;
    }

    private DirectMemory() {
    }

    /** The native address of byte 0 of a direct buffer (its own index 0, whatever its position). */
    static long address(ByteBuffer direct) {
        return UNSAFE.getLong(direct, ADDRESS_OFFSET);
    }

    /** {@code [acc, acc+length) ^= [src, src+length)}. */
    static void xor(long acc, long src, int length) {
        int i = 0;
        for (int longs = length & ~7; i < longs; i += 8) {
            UNSAFE.putLong(acc + i, UNSAFE.getLong(acc + i) ^ UNSAFE.getLong(src + i));
        }
        for (; i < length; i++) {
            UNSAFE.putByte(acc + i, (byte) (UNSAFE.getByte(acc + i) ^ UNSAFE.getByte(src + i)));
        }
    }

    /** {@code [p, p+length) ^= [a, a+length) ^ [b, b+length)}. */
    static void xor2(long p, long a, long b, int length) {
        int i = 0;
        for (int longs = length & ~7; i < longs; i += 8) {
            UNSAFE.putLong(p + i, UNSAFE.getLong(p + i) ^ UNSAFE.getLong(a + i) ^ UNSAFE.getLong(b + i));
        }
        for (; i < length; i++) {
            UNSAFE.putByte(p + i, (byte) (UNSAFE.getByte(p + i) ^ UNSAFE.getByte(a + i) ^ UNSAFE.getByte(b + i)));
        }
    }

    /** Bytes whose top bit is set, one per byte of a long. */
    private static final long HIGH_BITS = 0x8080808080808080L;
    /** Every bit but each byte's lowest, to cut what a left shift carried over from the byte below. */
    private static final long NOT_LOW_BITS = 0xfefefefefefefefeL;

    /**
     * Eight GF(2⁸) products {@code 2·b} at once (the shift-and-mask trick of Anvin's paper, §4):
     * each byte shifts left, and a byte whose top bit fell off is reduced by the low byte of the
     * polynomial, 0x1d. The multiply spreads 0x1d into exactly the bytes that overflowed and cannot
     * carry, since 0x01 × 0x1d fits a byte. Bytes stay independent, so byte order does not matter.
     */
    static long times2(long v) {
        long high = v & HIGH_BITS;
        return ((v << 1) & NOT_LOW_BITS) ^ ((high >>> 7) * 0x1d);
    }

    /** {@code [q, q+length) = 2·q ^ d}: one Horner step of the Q syndrome. */
    static void times2Xor(long q, long d, int length) {
        int i = 0;
        for (int longs = length & ~7; i < longs; i += 8) {
            UNSAFE.putLong(q + i, times2(UNSAFE.getLong(q + i)) ^ UNSAFE.getLong(d + i));
        }
        for (; i < length; i++) {
            UNSAFE.putByte(q + i, (byte) (GaloisField.times2(UNSAFE.getByte(q + i)) ^ UNSAFE.getByte(d + i)));
        }
    }

    /** {@code p ^= d; q = 2·q ^ d}: one step of P and Q together, reading {@code d} once. */
    static void pqStep(long p, long q, long d, int length) {
        int i = 0;
        for (int longs = length & ~7; i < longs; i += 8) {
            long v = UNSAFE.getLong(d + i);
            UNSAFE.putLong(p + i, UNSAFE.getLong(p + i) ^ v);
            UNSAFE.putLong(q + i, times2(UNSAFE.getLong(q + i)) ^ v);
        }
        for (; i < length; i++) {
            byte v = UNSAFE.getByte(d + i);
            UNSAFE.putByte(p + i, (byte) (UNSAFE.getByte(p + i) ^ v));
            UNSAFE.putByte(q + i, (byte) (GaloisField.times2(UNSAFE.getByte(q + i)) ^ v));
        }
    }

    /** {@code [q, q+length) = 2·q}: a Horner step over a chunk of zeroes. */
    static void times2(long q, int length) {
        int i = 0;
        for (int longs = length & ~7; i < longs; i += 8) {
            UNSAFE.putLong(q + i, times2(UNSAFE.getLong(q + i)));
        }
        for (; i < length; i++) {
            UNSAFE.putByte(q + i, (byte) GaloisField.times2(UNSAFE.getByte(q + i)));
        }
    }

    /** {@code acc ^= row[a]} per byte, or {@code acc ^= row[a ^ b]} when {@code b != 0}: a constant multiply. */
    static void mulXor(long acc, long a, long b, int length, byte[] row) {
        for (int i = 0; i < length; i++) {
            int x = UNSAFE.getByte(a + i);
            if (b != 0) {
                x ^= UNSAFE.getByte(b + i);
            }
            UNSAFE.putByte(acc + i, (byte) (UNSAFE.getByte(acc + i) ^ row[x & 0xff]));
        }
    }

    /** {@code buf = row[buf]} per byte: a constant multiply in place. */
    static void mul(long buf, int length, byte[] row) {
        for (int i = 0; i < length; i++) {
            UNSAFE.putByte(buf + i, row[UNSAFE.getByte(buf + i) & 0xff]);
        }
    }

    /**
     * Two lost data chunks from their partial syndromes: on entry {@code x} holds {@code P ^ Pxy}
     * and {@code y} holds {@code Q ^ Qxy}; on return they hold {@code Dx = A·x ^ B·y} and
     * {@code Dy = (P ^ Pxy) ^ Dx}.
     */
    static void twoData(long x, long y, int length, byte[] rowA, byte[] rowB) {
        for (int i = 0; i < length; i++) {
            int pp = UNSAFE.getByte(x + i) & 0xff;
            int dx = rowA[pp] ^ rowB[UNSAFE.getByte(y + i) & 0xff];
            UNSAFE.putByte(x + i, (byte) dx);
            UNSAFE.putByte(y + i, (byte) (pp ^ dx));
        }
    }
}
