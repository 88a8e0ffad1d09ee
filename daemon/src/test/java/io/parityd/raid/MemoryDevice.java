package io.parityd.raid;

import io.parityd.block.BlockDevice;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A real {@link BlockDevice} backed by a byte array, like nbdkit's memory plugin: a member for
 * tests that need no disk. Each call is atomic (one monitor), stricter than a disk but never
 * weaker. Trim does nothing, the least helpful behaviour the contract allows, so a layer that
 * wrongly relies on trimmed ranges reading as zeroes is caught.
 */
public final class MemoryDevice implements BlockDevice {

    private final String name;
    private final byte[] bytes;
    private volatile boolean zeroesFast = true;

    public MemoryDevice(String name, int size) {
        this.name = name;
        this.bytes = new byte[size];
    }

    void setZeroesFast(boolean fast) {
        this.zeroesFast = fast;
    }

    /** Direct access for tests that corrupt or inspect the medium. */
    synchronized byte[] snapshot(int offset, int length) {
        return Arrays.copyOfRange(bytes, offset, offset + length);
    }

    synchronized void poke(int offset, byte[] data) {
        System.arraycopy(data, 0, bytes, offset, data.length);
    }

    @Override
    public String describe() {
        return "memory:" + name;
    }

    @Override
    public long size() {
        return bytes.length;
    }

    @Override
    public synchronized void read(ByteBuffer dst, long offset) {
        check(offset, dst.remaining());
        dst.put(bytes, (int) offset, dst.remaining());
    }

    @Override
    public synchronized void write(ByteBuffer src, long offset, boolean fua) {
        check(offset, src.remaining());
        src.get(bytes, (int) offset, src.remaining());
    }

    @Override
    public synchronized void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) {
        check(offset, length);
        Arrays.fill(bytes, (int) offset, (int) (offset + length), (byte) 0);
    }

    @Override
    public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
        check(offset, length);
        return zeroesFast;
    }

    @Override
    public void trim(long offset, long length, boolean fua) {
        check(offset, length);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }

    private void check(long offset, long length) {
        if (offset < 0 || length < 0 || offset > bytes.length - length) {
            throw new IllegalArgumentException("range [" + offset + ", +" + length + ") outside " + bytes.length);
        }
    }
}
