package io.parityd.block;

import io.parityd.member.NativeIoException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A layer that makes the device below fail on command, as nbdkit's error filter does: a failing
 * operation throws {@link NativeIoException} with {@code EIO} (errno 5), exactly what a dying disk
 * gives the member code, and does not reach the device below. What fails is a {@link FaultMode},
 * switchable at run time; until one is set, everything passes through. Used by fault tests, and
 * by the daemon when an operator asks for injected faults ({@link FaultSpec}).
 *
 * <p>Reproducible: a rate is drawn from a {@link SplittableRandom} seeded by the mode, one draw
 * per matching operation in the order operations arrive. Concurrent callers draw under this
 * object's monitor, so one thread's sequence is repeatable; the interleaving of threads is not.
 */
public final class FaultyDevice extends ForwardingDevice {

    /** errno EIO, as {@code <errno.h>} defines it on Linux. */
    public static final int EIO = 5;

    private final AtomicLong injected = new AtomicLong();
    private volatile FaultMode mode = FaultMode.NONE;
    private SplittableRandom random = new SplittableRandom(0);
    private long matched;

    public FaultyDevice(BlockDevice next) {
        super(next);
    }

    public FaultyDevice(BlockDevice next, FaultMode mode) {
        this(next);
        setMode(mode);
    }

    /** From now on fail as {@code mode} says; counting for {@link FaultMode#after()} starts again. */
    public synchronized void setMode(FaultMode mode) {
        this.random = new SplittableRandom(mode.seed());
        this.matched = 0;
        this.mode = mode;
    }

    public FaultMode mode() {
        return mode;
    }

    /** Operations failed so far. */
    public long injected() {
        return injected.get();
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        check(FaultMode.Op.READ, offset, dst.remaining(), "pread");
        next.read(dst, offset);
    }

    @Override
    public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        check(FaultMode.Op.WRITE, offset, src.remaining(), "pwrite");
        if (fua) {
            check(FaultMode.Op.FLUSH, offset, src.remaining(), "fdatasync");
        }
        next.write(src, offset, fua);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        check(FaultMode.Op.ZERO, offset, length, "fallocate");
        if (fua) {
            check(FaultMode.Op.FLUSH, offset, length, "fdatasync");
        }
        next.writeZeroes(offset, length, mayDeallocate, fua);
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        check(FaultMode.Op.ZERO, offset, length, "fallocate(PUNCH_HOLE)");
        next.trim(offset, length, fua);
    }

    @Override
    public void flush() throws IOException {
        check(FaultMode.Op.FLUSH, 0, 0, "fdatasync");
        next.flush();
    }

    // close() is never failed (inherited): a dead disk still lets go of its descriptor.

    private void check(FaultMode.Op op, long offset, long length, String call) throws NativeIoException {
        FaultMode m = mode;
        if (m.ops().isEmpty() || !m.covers(op, offset, length) || !draw(m)) {
            return;
        }
        injected.incrementAndGet();
        throw new NativeIoException(call, next.describe(), EIO, "Input/output error (injected)");
    }

    private synchronized boolean draw(FaultMode m) {
        if (m != mode) {
            return false; // the mode changed under us: judge by the new one next time
        }
        if (matched++ < m.after()) {
            return false;
        }
        return m.rate() >= 1 || random.nextDouble() < m.rate();
    }

    @Override
    public String toString() {
        return "faulty:" + next.describe();
    }
}
