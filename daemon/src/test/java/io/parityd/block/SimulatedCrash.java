package io.parityd.block;

/**
 * "The process died here": thrown by a {@link CrashingDevice} once its {@link CrashSwitch} has
 * fired. Deliberately not an {@link java.io.IOException}: a dead process marks nothing faulty and
 * writes no superblock, so the engine must not take this for a member's I/O error. A test catches
 * it where the process boundary would be, then reassembles from what the members hold.
 */
public final class SimulatedCrash extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public SimulatedCrash(String message) {
        super(message);
    }
}
