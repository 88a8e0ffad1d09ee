package io.parityd.raid;

import io.parityd.block.BlockDevice;
import io.parityd.block.ForwardingDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A pass-through layer that counts what reaches the device below, the way nbdkit's stats filter
 * does; tests use it to prove which path the volume took. Can be told to fail flushes.
 */
final class CountingDevice extends ForwardingDevice {

    final AtomicLong reads = new AtomicLong();
    final AtomicLong readBytes = new AtomicLong();
    final AtomicLong writes = new AtomicLong();
    final AtomicLong writeBytes = new AtomicLong();
    final AtomicLong zeroes = new AtomicLong();
    final AtomicLong zeroBytes = new AtomicLong();
    final AtomicLong trims = new AtomicLong();
    final AtomicLong flushes = new AtomicLong();
    final AtomicLong fuaWrites = new AtomicLong();
    final List<Zeroing> zeroings = new CopyOnWriteArrayList<>();
    private volatile IOException flushFailure;

    /** One writeZeroes call as the device below saw it. */
    record Zeroing(long offset, long length, boolean mayDeallocate) {
    }

    CountingDevice(BlockDevice next) {
        super(next);
    }

    void failFlushWith(IOException failure) {
        this.flushFailure = failure;
    }

    void reset() {
        for (AtomicLong c : new AtomicLong[] {reads, readBytes, writes, writeBytes, zeroes, zeroBytes, trims, flushes, fuaWrites}) {
            c.set(0);
        }
        zeroings.clear();
    }

    @Override
    public String describe() {
        return "counting:" + next.describe();
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        reads.incrementAndGet();
        readBytes.addAndGet(dst.remaining());
        next.read(dst, offset);
    }

    @Override
    public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        writes.incrementAndGet();
        writeBytes.addAndGet(src.remaining());
        if (fua) {
            fuaWrites.incrementAndGet();
        }
        next.write(src, offset, fua);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        zeroes.incrementAndGet();
        zeroBytes.addAndGet(length);
        zeroings.add(new Zeroing(offset, length, mayDeallocate));
        next.writeZeroes(offset, length, mayDeallocate, fua);
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        trims.incrementAndGet();
        next.trim(offset, length, fua);
    }

    @Override
    public void flush() throws IOException {
        flushes.incrementAndGet();
        IOException failure = flushFailure;
        if (failure != null) {
            throw failure;
        }
        next.flush();
    }
}
