package io.parityd.controller;

import io.parityd.member.NativeIoException;
import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads a controller runs blocking volume and journal work on, so the front's event loops
 * never wait on a disk, and the one place a failure becomes what the client is told.
 *
 * <p>The queue is unbounded on purpose: the front bounds what each connection may have in flight
 * and stops reading from a client that is over it, which is where backpressure belongs
 * (DESIGN.md "NVRAM": backpressure, never an error).
 */
final class IoPool implements Executor {

    private static final Logger log = LoggerFactory.getLogger(IoPool.class);
    private static final int EFBIG = 27;
    private static final int ENOSPC = 28;
    private static final int EDQUOT = 122;

    /** A unit of blocking work. */
    @FunctionalInterface
    interface Op {
        void run() throws IOException;
    }

    private final ExecutorService threads;
    private volatile boolean closed;

    IoPool(int ioThreads) {
        if (ioThreads < 1) {
            throw new IllegalArgumentException("ioThreads must be at least 1: " + ioThreads);
        }
        AtomicInteger n = new AtomicInteger();
        this.threads = new ThreadPoolExecutor(ioThreads, ioThreads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "parityd-io-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs {@code task} on a pool thread; once closed, refuses (the caller's future fails SHUTTING_DOWN). */
    @Override
    public void execute(Runnable task) {
        threads.execute(task);
    }

    /**
     * Runs {@code op} on a pool thread; the future completes when it has, or fails with the
     * {@link RequestFailedException} the client should see.
     */
    CompletableFuture<Void> submit(Op op, String what, long offset, long length) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(shuttingDown());
            return done;
        }
        try {
            threads.execute(() -> {
                try {
                    op.run();
                    done.complete(null);
                } catch (Throwable e) {
                    done.completeExceptionally(failure(e, what, offset, length));
                }
            });
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(shuttingDown());
        }
        return done;
    }

    /** Stops taking work and waits for what was queued. */
    void close() throws InterruptedException {
        closed = true;
        threads.shutdown();
        if (!threads.awaitTermination(1, TimeUnit.MINUTES)) {
            log.warn("I/O threads still busy after a minute; going on");
        }
    }

    boolean closed() {
        return closed;
    }

    /**
     * What the client is told about {@code e}. A {@link RequestFailedException} passes through;
     * anything else is logged here (the client only ever learns an errno; the operator needs the
     * cause) and classified.
     */
    static RequestFailedException failure(Throwable e, String what, long offset, long length) {
        FatalErrors.haltOnOutOfMemory(e);
        Throwable cause = unwrap(e);
        if (cause instanceof RequestFailedException r) {
            return r;
        }
        log.warn("{} of {} bytes at offset {} failed: {}", what, length, offset, cause.toString());
        return new RequestFailedException(classify(cause), what + " failed: " + cause.getMessage(), cause);
    }

    static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
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

    /**
     * The single thread a controller appends its journal records on, in the order it hands them
     * over (a daemon thread: a stop drains it explicitly).
     */
    static java.util.concurrent.ExecutorService appender() {
        return java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "parityd-append");
            t.setDaemon(true);
            return t;
        });
    }

    static RequestFailedException shuttingDown() {
        return new RequestFailedException(RequestFailedException.Reason.SHUTTING_DOWN, "parityd is shutting down");
    }
}
