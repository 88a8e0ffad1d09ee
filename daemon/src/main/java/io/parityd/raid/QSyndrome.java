package io.parityd.raid;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;

/**
 * RAID-6's Q syndrome, {@code Q = Σ gⁱ·Dᵢ} over {@link GaloisField GF(2⁸)} with {@code i} the data
 * index in the stripe (DESIGN.md "RAID"; Anvin, "The mathematics of RAID-6"), in the shape of
 * {@link Parity}: absolute indices and a length, positions, limits and byte order untouched,
 * heap or direct buffers, read-only sources.
 *
 * <p>Computing Q: by Horner's rule, data chunks from the highest index down,
 * {@code Q = (…((D[k-1])·2 ^ D[k-2])·2 ^ …)·2 ^ D[0]}: a multiply by 2 is a shift and a masked
 * XOR that {@link DirectMemory#times2(long)} does eight bytes at a time, so the healthy write path
 * never looks up a table. {@link #pqStep} advances P and Q together, reading each data chunk once.
 *
 * <p>Updating Q in place (read-modify-write) and reconstructing need a multiply by an arbitrary
 * constant: a table row per constant ({@link GaloisField#mulRow}), one load per byte, which is
 * fine there because those paths are bound by member reads.
 */
public final class QSyndrome {

    private static final VarHandle LONGS =
            MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private QSyndrome() {
    }

    /** {@code q[qIndex..+length) = 2·q ^ d[dIndex..+length)}: one Horner step. */
    public static void step(ByteBuffer q, int qIndex, ByteBuffer d, int dIndex, int length) {
        checkWritable(q, qIndex, length);
        checkRange(d, dIndex, length);
        if (DirectMemory.AVAILABLE && q.isDirect() && d.isDirect()) {
            DirectMemory.times2Xor(DirectMemory.address(q) + qIndex, DirectMemory.address(d) + dIndex, length);
            return;
        }
        int i = 0;
        for (int longs = length & ~7; i < longs; i += 8) {
            long v = DirectMemory.times2((long) LONGS.get(q, qIndex + i)) ^ (long) LONGS.get(d, dIndex + i);
            LONGS.set(q, qIndex + i, v);
        }
        for (; i < length; i++) {
            q.put(qIndex + i, (byte) (GaloisField.times2(q.get(qIndex + i)) ^ d.get(dIndex + i)));
        }
    }

    /** {@code p ^= d} and {@code q = 2·q ^ d} over the same length, reading {@code d} once. */
    public static void pqStep(ByteBuffer p, int pIndex, ByteBuffer q, int qIndex, ByteBuffer d, int dIndex,
                              int length) {
        checkWritable(p, pIndex, length);
        checkWritable(q, qIndex, length);
        checkRange(d, dIndex, length);
        if (DirectMemory.AVAILABLE && p.isDirect() && q.isDirect() && d.isDirect()) {
            DirectMemory.pqStep(DirectMemory.address(p) + pIndex, DirectMemory.address(q) + qIndex,
                    DirectMemory.address(d) + dIndex, length);
            return;
        }
        Parity.xorInto(p, pIndex, d, dIndex, length);
        step(q, qIndex, d, dIndex, length);
    }

    /** {@code q = 2·q}: the Horner step for a data chunk that is all zeroes (or treated as such). */
    public static void times2(ByteBuffer q, int qIndex, int length) {
        checkWritable(q, qIndex, length);
        if (DirectMemory.AVAILABLE && q.isDirect()) {
            DirectMemory.times2(DirectMemory.address(q) + qIndex, length);
            return;
        }
        int i = 0;
        for (int longs = length & ~7; i < longs; i += 8) {
            LONGS.set(q, qIndex + i, DirectMemory.times2((long) LONGS.get(q, qIndex + i)));
        }
        for (; i < length; i++) {
            q.put(qIndex + i, (byte) GaloisField.times2(q.get(qIndex + i)));
        }
    }

    /** {@code acc ^= coefficient·src}: the multiply-accumulate beside {@link Parity#xorInto}. */
    public static void mulXorInto(ByteBuffer acc, int accIndex, ByteBuffer src, int srcIndex, int length,
                                  int coefficient) {
        checkWritable(acc, accIndex, length);
        checkRange(src, srcIndex, length);
        byte[] row = GaloisField.mulRow(coefficient);
        if (DirectMemory.AVAILABLE && acc.isDirect() && src.isDirect()) {
            DirectMemory.mulXor(DirectMemory.address(acc) + accIndex, DirectMemory.address(src) + srcIndex, 0,
                    length, row);
            return;
        }
        for (int i = 0; i < length; i++) {
            acc.put(accIndex + i, (byte) (acc.get(accIndex + i) ^ row[src.get(srcIndex + i) & 0xff]));
        }
    }

    /**
     * Read-modify-write of Q when data chunk {@code dataIndex} changes:
     * {@code q ^= g^dataIndex · (oldData ^ newData)}. Equal to recomputing Q with the chunk replaced.
     */
    public static void update(ByteBuffer q, int qIndex, ByteBuffer oldData, int oldIndex, ByteBuffer newData,
                              int newIndex, int length, int dataIndex) {
        checkWritable(q, qIndex, length);
        checkRange(oldData, oldIndex, length);
        checkRange(newData, newIndex, length);
        byte[] row = GaloisField.mulRow(GaloisField.pow2(dataIndex));
        if (DirectMemory.AVAILABLE && q.isDirect() && oldData.isDirect() && newData.isDirect()) {
            DirectMemory.mulXor(DirectMemory.address(q) + qIndex, DirectMemory.address(oldData) + oldIndex,
                    DirectMemory.address(newData) + newIndex, length, row);
            return;
        }
        for (int i = 0; i < length; i++) {
            int delta = (oldData.get(oldIndex + i) ^ newData.get(newIndex + i)) & 0xff;
            q.put(qIndex + i, (byte) (q.get(qIndex + i) ^ row[delta]));
        }
    }

    /** {@code buf = coefficient·buf} in place. */
    public static void multiply(ByteBuffer buf, int index, int length, int coefficient) {
        checkWritable(buf, index, length);
        byte[] row = GaloisField.mulRow(coefficient);
        if (DirectMemory.AVAILABLE && buf.isDirect()) {
            DirectMemory.mul(DirectMemory.address(buf) + index, length, row);
            return;
        }
        for (int i = 0; i < length; i++) {
            buf.put(index + i, row[buf.get(index + i) & 0xff]);
        }
    }

    /**
     * {@code q = Σ gⁱ·data[i]} over {@code q.remaining()} bytes, each buffer read from its own
     * position; a null entry counts as a chunk of zeroes. With no data, Q is zero.
     */
    public static void compute(ByteBuffer q, ByteBuffer... data) {
        int length = q.remaining();
        int at = q.position();
        Parity.clear(q, at, length);
        for (int d = data.length - 1; d >= 0; d--) {
            if (data[d] == null) {
                times2(q, at, length);
            } else {
                step(q, at, data[d], data[d].position(), length);
            }
        }
    }

    private static void checkWritable(ByteBuffer buf, int index, int length) {
        checkRange(buf, index, length);
        if (buf.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
    }

    private static void checkRange(ByteBuffer buf, int index, int length) {
        if (index < 0 || length < 0 || index > buf.limit() - length) {
            throw new IndexOutOfBoundsException(
                    "range [" + index + ", +" + length + ") outside buffer limit " + buf.limit());
        }
    }
}
