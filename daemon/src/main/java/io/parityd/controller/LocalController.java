package io.parityd.controller;

import io.parityd.block.BlockDevice;
import io.parityd.member.NativeIoException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller of single-process mode: runs each request on the volume on a pool of I/O
 * threads, so the front's event loops never wait on a disk. There is no standby to
 * checkpoint to; the NVRAM journal (issue 4) will sit between this class and the volume.
 *
 * <p>The pool's queue is unbounded on purpose: the front bounds what each connection may have
 * in flight and stops reading from a client that is over it, which is where backpressure
 * belongs (DESIGN.md "NVRAM": backpressure, never an error).
 */
public final class LocalController implements Controller {

    private static final Logger log = LoggerFactory.getLogger(LocalController.class);
    private static final int EFBIG = 27;
    private static final int ENOSPC = 28;
    private static final int EDQUOT = 122;

    private final BlockDevice volume;
    private final ExecutorService io;
    private volatile boolean closed;

    /**
     * @param volume    the volume requests act on; still owned (and closed) by the caller
     * @param ioThreads threads doing blocking I/O; more than the cores, because they mostly wait
     */
    public LocalController(BlockDevice volume, int ioThreads) {
        if (ioThreads < 1) {
            throw new IllegalArgumentException("ioThreads must be at least 1: " + ioThreads);
        }
        this.volume = volume;
        AtomicInteger n = new AtomicInteger();
        this.io = new ThreadPoolExecutor(ioThreads, ioThreads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "parityd-io-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public long size() {
        return volume.size();
    }

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        int length = dst.remaining();
        return submit(() -> volume.read(dst, offset), "read", offset, length);
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuffer data, boolean fua) {
        int length = data.remaining();
        return submit(() -> volume.write(data, offset, fua), "write", offset, length);
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly, boolean fua) {
        return submit(() -> {
            // Asked before any byte changes, so a refused fast zero leaves the volume untouched.
            if (fastOnly && !volume.zeroesFast(offset, length, mayDeallocate)) {
                throw new RequestFailedException(RequestFailedException.Reason.NOT_FAST,
                        "zeroing " + length + " bytes at " + offset + " would not be faster than writing them");
            }
            volume.writeZeroes(offset, length, mayDeallocate, fua);
        }, "write-zeroes", offset, length);
    }

    @Override
    public CompletableFuture<Void> trim(long offset, long length, boolean fua) {
        return submit(() -> volume.trim(offset, length, fua), "trim", offset, length);
    }

    @Override
    public CompletableFuture<Void> flush() {
        return submit(volume::flush, "flush", 0, 0);
    }

    @Override
    public void close() throws IOException, InterruptedException {
        closed = true;
        io.shutdown();
        if (!io.awaitTermination(1, TimeUnit.MINUTES)) {
            log.warn("I/O threads still busy after a minute; flushing anyway");
        }
        volume.flush();
    }

    /** A unit of blocking work on the volume. */
    @FunctionalInterface
    private interface VolumeOp {
        void run() throws IOException;
    }

    private CompletableFuture<Void> submit(VolumeOp op, String what, long offset, long length) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(shuttingDown());
            return done;
        }
        try {
            io.execute(() -> run(op, done, what, offset, length));
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(shuttingDown());
        }
        return done;
    }

    private static void run(VolumeOp op, CompletableFuture<Void> done, String what, long offset, long length) {
        try {
            op.run();
            done.complete(null);
        } catch (RequestFailedException e) {
            done.completeExceptionally(e);
        } catch (IOException | RuntimeException e) {
            // The client only ever learns an errno; the operator needs the real cause, so it is logged here.
            log.warn("{} of {} bytes at offset {} failed: {}", what, length, offset, e.toString());
            done.completeExceptionally(new RequestFailedException(classify(e), what + " failed: " + e.getMessage(), e));
        }
    }

    /** ENOSPC, EDQUOT and EFBIG from below become ENOSPC for the client, as the NBD spec asks. */
    static RequestFailedException.Reason classify(Throwable e) {
        if (e instanceof NativeIoException n) {
            return n.errno() == ENOSPC || n.errno() == EDQUOT || n.errno() == EFBIG
                    ? RequestFailedException.Reason.NO_SPACE : RequestFailedException.Reason.IO_ERROR;
        }
        // FileChannel reports errno only as strerror text.
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (m.contains("no space left") || m.contains("quota exceeded") || m.contains("file too large")) {
            return RequestFailedException.Reason.NO_SPACE;
        }
        return RequestFailedException.Reason.IO_ERROR;
    }

    private static RequestFailedException shuttingDown() {
        return new RequestFailedException(RequestFailedException.Reason.SHUTTING_DOWN, "parityd is shutting down");
    }
}
