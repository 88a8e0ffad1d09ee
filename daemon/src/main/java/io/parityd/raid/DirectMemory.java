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
}
