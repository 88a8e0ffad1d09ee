package io.parityd.block;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A layer that dies with the process: every call goes through its {@link CrashSwitch}, shared
 * with the layers over the array's other members, and is passed to the device below until the
 * switch fires; then it throws {@link SimulatedCrash} (see the switch for when). Like nbdkit's
 * error filter, but for a crash rather than a failing disk: nothing is marked faulty, and what
 * reached the device below stays there for the test to reassemble from.
 *
 * <p>{@link #size()}, {@link #describe()} and {@link #zeroesFast} ask nothing of the disk and
 * always answer; {@link #close()} always closes, so a test can clean up after the crash.
 */
public final class CrashingDevice extends ForwardingDevice {

    private final CrashSwitch crashSwitch;

    public CrashingDevice(BlockDevice next, CrashSwitch crashSwitch) {
        super(next);
        this.crashSwitch = crashSwitch;
    }

    public CrashSwitch crashSwitch() {
        return crashSwitch;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        crashSwitch.checkAlive(describe(), "read");
        next.read(dst, offset);
    }

    @Override
    public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        CrashSwitch.Firing diesAfter = crashSwitch.enter(describe(), "write", offset, src.remaining());
        modify(diesAfter, () -> next.write(src, offset, fua));
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        CrashSwitch.Firing diesAfter = crashSwitch.enter(describe(), "writeZeroes", offset, length);
        modify(diesAfter, () -> next.writeZeroes(offset, length, mayDeallocate, fua));
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        CrashSwitch.Firing diesAfter = crashSwitch.enter(describe(), "trim", offset, length);
        modify(diesAfter, () -> next.trim(offset, length, fua));
    }

    @Override
    public void flush() throws IOException {
        crashSwitch.checkAlive(describe(), "flush");
        next.flush();
    }

    @Override
    public String toString() {
        return "crashing:" + next.describe();
    }

    /**
     * Performs a call the switch let through; if the process dies right after it, throws the
     * crash, carrying the call's own failure (if any) as suppressed: nobody lived to see it.
     */
    private static void modify(CrashSwitch.Firing diesAfter, Call call) throws IOException {
        if (diesAfter == null) {
            call.run();
            return;
        }
        SimulatedCrash crash = CrashSwitch.crashAt(diesAfter);
        try {
            call.run();
        } catch (IOException | RuntimeException e) {
            crash.addSuppressed(e);
        }
        throw crash;
    }

    @FunctionalInterface
    private interface Call {
        void run() throws IOException;
    }
}
