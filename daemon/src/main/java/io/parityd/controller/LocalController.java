package io.parityd.controller;

import io.netty.buffer.ByteBuf;
import io.parityd.block.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * The controller of single-process mode without a journal ({@code serve --journal off}): runs each
 * request on the volume on a pool of I/O threads. A crash mid-stripe can leave parity lying, so
 * an unclean stop forces a full resync, as md without a bitmap does; {@link JournaledController}
 * is the default and removes that.
 */
public final class LocalController implements Controller {

    private final BlockDevice volume;
    private final IoPool io;

    /**
     * @param volume    the volume requests act on; still owned (and closed) by the caller
     * @param ioThreads threads doing blocking I/O; more than the cores, because they mostly wait
     */
    public LocalController(BlockDevice volume, int ioThreads) {
        this.volume = volume;
        this.io = new IoPool(ioThreads);
    }

    @Override
    public long size() {
        return volume.size();
    }

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        return io.submit(() -> volume.read(dst, offset), "read", offset, dst.remaining());
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuf data, boolean fua) {
        ByteBuffer bytes = Payloads.nio(data);
        return io.submit(() -> volume.write(bytes, offset, fua), "write", offset, bytes.remaining());
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly, boolean fua) {
        return io.submit(() -> {
            // Asked before any byte changes, so a refused fast zero leaves the volume untouched.
            if (fastOnly && !volume.zeroesFast(offset, length, mayDeallocate)) {
                throw notFast(offset, length);
            }
            volume.writeZeroes(offset, length, mayDeallocate, fua);
        }, "write-zeroes", offset, length);
    }

    @Override
    public CompletableFuture<Void> trim(long offset, long length, boolean fua) {
        return io.submit(() -> volume.trim(offset, length, fua), "trim", offset, length);
    }

    @Override
    public CompletableFuture<Void> flush() {
        return io.submit(volume::flush, "flush", 0, 0);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        io.close();
        volume.flush();
    }

    static RequestFailedException notFast(long offset, long length) {
        return new RequestFailedException(RequestFailedException.Reason.NOT_FAST,
                "zeroing " + length + " bytes at " + offset + " would not be faster than writing them");
    }
}
