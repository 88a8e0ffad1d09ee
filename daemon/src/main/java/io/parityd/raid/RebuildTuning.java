package io.parityd.raid;

/**
 * How a rebuild paces itself.
 *
 * @param batchBytes    bytes per member per batch: large enough that member I/O is sequential and
 *                      a batch's fixed costs vanish, small enough that a client write waiting for
 *                      the batch's stripe locks waits milliseconds, not seconds
 * @param progressNanos least time between two {@link SlotListener#rebuildProgress} reports, each of
 *                      which costs a flush of the new device and a superblock update
 */
record RebuildTuning(long batchBytes, long progressNanos) {

    /**
     * 2 MiB per member per batch (measured: larger batches gained nothing, see the engine's
     * throughput test) and a report a second, the rate the issue asks for.
     */
    static final RebuildTuning DEFAULT = new RebuildTuning(2L << 20, 1_000_000_000L);

    RebuildTuning {
        if (batchBytes < 1 || progressNanos < 0) {
            throw new IllegalArgumentException("bad rebuild tuning: " + batchBytes + " bytes, " + progressNanos + " ns");
        }
    }
}
