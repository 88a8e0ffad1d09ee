package io.parityd.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A layer over another device that passes every call through; subclasses override the calls
 * they change (fault injection, counting, crash simulation), as Guava's forwarding classes do.
 */
public abstract class ForwardingDevice implements BlockDevice {

    /** The device this layer wraps. */
    protected final BlockDevice next;

    protected ForwardingDevice(BlockDevice next) {
        this.next = Objects.requireNonNull(next, "next");
    }

    /** The device this layer wraps. */
    public BlockDevice next() {
        return next;
    }

    @Override
    public String describe() {
        return next.describe();
    }

    @Override
    public long size() {
        return next.size();
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        next.read(dst, offset);
    }

    @Override
    public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        next.write(src, offset, fua);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        next.writeZeroes(offset, length, mayDeallocate, fua);
    }

    @Override
    public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
        return next.zeroesFast(offset, length, mayDeallocate);
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        next.trim(offset, length, fua);
    }

    @Override
    public void flush() throws IOException {
        next.flush();
    }

    @Override
    public String lost() throws IOException {
        return next.lost();
    }

    @Override
    public void close() throws IOException {
        next.close();
    }
}
