package io.parityd.raid;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The P syndrome of parity RAID: the XOR of a stripe's data chunks (DESIGN.md "RAID"), computed
 * from scratch ({@code P = D0 ^ D1 ^ ...}) or updated in place by read-modify-write
 * ({@code P' = P ^ Dold ^ Dnew}).
 *
 * <p>Every method takes absolute indices and a length and leaves positions, limits and byte
 * order of its buffers untouched: the volume XORs straight out of slices of a caller's buffer
 * it does not own. Buffers may be heap or direct, and a source may be read-only.
 *
 * <p>Speed: when every buffer is direct (the daemon's case: Netty's buffers and the stripe
 * scratch), eight bytes at a time on raw addresses ({@link DirectMemory}), at memory speed
 * whatever else the JIT has seen. Otherwise through a native-order {@link VarHandle} view, which
 * is correct for any mix of buffers and byte orders but several times slower. XOR does not care
 * about byte order as long as loads and stores agree, which both paths guarantee.
 *
 * <p>RAID-6's Q lives in the sibling {@link QSyndrome}, in the same shape, so the stripe code
 * drives both alike.
 */
public final class Parity {

    private static final VarHandle LONGS =
            MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private Parity() {
    }

    /** {@code acc[accIndex..+length) ^= src[srcIndex..+length)}. */
    public static void xorInto(ByteBuffer acc, int accIndex, ByteBuffer src, int srcIndex, int length) {
        checkRange(acc, accIndex, length);
        checkRange(src, srcIndex, length);
        if (acc.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        if (DirectMemory.AVAILABLE && acc.isDirect() && src.isDirect()) {
            DirectMemory.xor(DirectMemory.address(acc) + accIndex, DirectMemory.address(src) + srcIndex, length);
            return;
        }
        int i = 0;
        int longs = length & ~7;
        for (; i < longs; i += 8) {
            long v = (long) LONGS.get(acc, accIndex + i) ^ (long) LONGS.get(src, srcIndex + i);
            LONGS.set(acc, accIndex + i, v);
        }
        for (; i < length; i++) {
            acc.put(accIndex + i, (byte) (acc.get(accIndex + i) ^ src.get(srcIndex + i)));
        }
    }

    /** {@code acc ^= src} over {@code acc.remaining()} bytes, each from its own position. */
    public static void xorInto(ByteBuffer acc, ByteBuffer src) {
        xorInto(acc, acc.position(), src, src.position(), acc.remaining());
    }

    /**
     * Read-modify-write update in one pass: {@code p[pIndex..+length) ^= oldData ^ newData}.
     * Equal to recomputing P over the stripe with the chunk replaced.
     */
    public static void update(ByteBuffer p, int pIndex, ByteBuffer oldData, int oldIndex,
                              ByteBuffer newData, int newIndex, int length) {
        checkRange(p, pIndex, length);
        checkRange(oldData, oldIndex, length);
        checkRange(newData, newIndex, length);
        if (p.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        if (DirectMemory.AVAILABLE && p.isDirect() && oldData.isDirect() && newData.isDirect()) {
            DirectMemory.xor2(DirectMemory.address(p) + pIndex, DirectMemory.address(oldData) + oldIndex,
                    DirectMemory.address(newData) + newIndex, length);
            return;
        }
        int i = 0;
        int longs = length & ~7;
        for (; i < longs; i += 8) {
            long v = (long) LONGS.get(p, pIndex + i)
                    ^ (long) LONGS.get(oldData, oldIndex + i)
                    ^ (long) LONGS.get(newData, newIndex + i);
            LONGS.set(p, pIndex + i, v);
        }
        for (; i < length; i++) {
            p.put(pIndex + i, (byte) (p.get(pIndex + i) ^ oldData.get(oldIndex + i) ^ newData.get(newIndex + i)));
        }
    }

    /**
     * {@code p = data[0] ^ data[1] ^ ...} over {@code p.remaining()} bytes, each buffer read from
     * its own position. With no data, P is zero (the parity of an all-zero stripe).
     */
    public static void compute(ByteBuffer p, ByteBuffer... data) {
        int length = p.remaining();
        if (data.length == 0) {
            clear(p, p.position(), length);
            return;
        }
        copy(p, p.position(), data[0], data[0].position(), length);
        for (int d = 1; d < data.length; d++) {
            xorInto(p, p.position(), data[d], data[d].position(), length);
        }
    }

    /** {@code dst[dstIndex..+length) = src[srcIndex..+length)}; the first term of a fresh P. */
    public static void copy(ByteBuffer dst, int dstIndex, ByteBuffer src, int srcIndex, int length) {
        checkRange(src, srcIndex, length);
        dst.put(dstIndex, src, srcIndex, length);
    }

    /** Zeroes {@code buf[index..+length)}: the parity of a column whose data is all zero. */
    public static void clear(ByteBuffer buf, int index, int length) {
        checkRange(buf, index, length);
        int i = 0;
        int longs = length & ~7;
        for (; i < longs; i += 8) {
            LONGS.set(buf, index + i, 0L);
        }
        for (; i < length; i++) {
            buf.put(index + i, (byte) 0);
        }
    }

    /**
     * Bounds against the limit, checked once up front: the per-long checks inside the VarHandle
     * only know the limit too, but failing before the first store keeps a bad call from leaving
     * half a result behind.
     */
    private static void checkRange(ByteBuffer buf, int index, int length) {
        if (index < 0 || length < 0 || index > buf.limit() - length) {
            throw new IndexOutOfBoundsException(
                    "range [" + index + ", +" + length + ") outside buffer limit " + buf.limit());
        }
    }
}
