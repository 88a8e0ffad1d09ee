package io.parityd.block;

import java.util.Optional;

/**
 * The moment a simulated process dies, shared by the {@link CrashingDevice}s over every member of
 * one array, so that "the k-th change reaching any member" is one count. Armed with k, the k-th
 * modifying call (write, writeZeroes, trim) made through any sharing device, counted from arming,
 * throws {@link SimulatedCrash}, either before the call reaches its device (the default) or right
 * after it completed there. From then on every call on every sharing device throws too, reads and
 * flushes included, until {@link #reset()}: a dead process does nothing more.
 *
 * <p>Modifying calls are counted whether or not the switch is armed, so a dry run of a workload
 * tells a crash matrix how many points to try: {@code arm(k)} for each k in
 * {@code 1..modifyingCalls()}.
 *
 * <p>Thread-safe: the count and the decision are made under this object's monitor, so exactly one
 * call fires, exactly {@code k - 1} modifying calls proceed before it, and none after it. A call
 * that passed the switch before it fired may still be running on its device, as a request in
 * flight at a real crash would be.
 */
public final class CrashSwitch {

    /**
     * Where the switch fired, for failure messages.
     *
     * @param device    the device's {@link BlockDevice#describe()}
     * @param operation {@code write}, {@code writeZeroes} or {@code trim}
     * @param offset    the call's device offset
     * @param length    the call's length in bytes
     * @param call      its number among modifying calls since arming (the armed k)
     * @param after     true if the call was performed before the crash
     */
    public record Firing(String device, String operation, long offset, long length, long call, boolean after) {
        @Override
        public String toString() {
            return operation + " of " + length + " bytes at " + offset + " on " + device + " (modifying call " + call
                    + (after ? "), after it completed" : "), before it reached the device");
        }
    }

    private long armedAt;
    private boolean after;
    private long calls;
    private Firing firing;

    /** Crashes before the {@code k}-th modifying call from now, as {@link #arm(long, boolean)}. */
    public void arm(long k) {
        arm(k, false);
    }

    /**
     * Crashes at the {@code k}-th modifying call from now, before it reaches its device or, with
     * {@code after}, right after it completed there. Clears an earlier firing and the count.
     */
    public synchronized void arm(long k, boolean after) {
        if (k < 1) {
            throw new IllegalArgumentException("k counts modifying calls from 1: " + k);
        }
        this.armedAt = k;
        this.after = after;
        this.calls = 0;
        this.firing = null;
    }

    /** Disarms, forgets any firing and zeroes the count: every device works again. */
    public synchronized void reset() {
        armedAt = 0;
        calls = 0;
        firing = null;
    }

    /** True once the armed call was reached (until {@link #arm} or {@link #reset}). */
    public synchronized boolean fired() {
        return firing != null;
    }

    /** Where it fired; empty if it has not. */
    public synchronized Optional<Firing> firing() {
        return Optional.ofNullable(firing);
    }

    /** Modifying calls let through or fired at since the last {@link #arm} or {@link #reset}. */
    public synchronized long modifyingCalls() {
        return calls;
    }

    /**
     * Counts one modifying call. Throws if the process is dead or dies before this call; returns
     * the firing if it dies right after it, else null (the call proceeds).
     */
    synchronized Firing enter(String device, String operation, long offset, long length) {
        checkAlive(device, operation);
        calls++;
        if (armedAt == 0 || calls != armedAt) {
            return null;
        }
        firing = new Firing(device, operation, offset, length, calls, after);
        if (!after) {
            throw crashAt(firing);
        }
        return firing;
    }

    /** Throws if the switch has fired: a call that is not counted (read, flush) on a dead process. */
    synchronized void checkAlive(String device, String operation) {
        if (firing != null) {
            throw new SimulatedCrash("simulated crash: " + operation + " on " + device
                    + " after the process died at " + firing);
        }
    }

    /** The exception for the call the switch fired at. */
    static SimulatedCrash crashAt(Firing firing) {
        return new SimulatedCrash("simulated crash at " + firing);
    }
}
