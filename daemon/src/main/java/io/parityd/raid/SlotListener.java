package io.parityd.raid;

import java.io.IOException;

/**
 * What a {@link RaidVolume} tells its owner about member slots, so the owner can persist it in
 * the superblocks and tell operators (log, status, metrics). Called on the thread that noticed
 * the event, which may hold stripe locks: implementations persist and return, and never call
 * back into the volume's I/O methods.
 */
public interface SlotListener {

    /**
     * The device in {@code slot} failed an I/O or a sync (or an operator failed it). The volume
     * already treats it as faulty; this must make that durable (the other members' superblocks)
     * before returning, so a restart never trusts the member again.
     */
    void slotFailed(int slot, IOException cause);

    /** A rebuild of {@code slot} has made stripes {@code [0, stripes)} current; persist now and then. */
    void rebuildProgress(int slot, long stripes);

    /** The rebuild of {@code slot} is complete: it is an active member again. Persist before returning. */
    void rebuildFinished(int slot);

    /** The rebuild of {@code slot} stopped before completing (a read failure beyond redundancy, or shutdown). */
    void rebuildStopped(int slot, long stripes, Exception cause);

    /** A listener that remembers nothing: for tests and offline tools. */
    SlotListener NONE = new SlotListener() {
        @Override
        public void slotFailed(int slot, IOException cause) {
        }

        @Override
        public void rebuildProgress(int slot, long stripes) {
        }

        @Override
        public void rebuildFinished(int slot) {
        }

        @Override
        public void rebuildStopped(int slot, long stripes, Exception cause) {
        }
    };
}
