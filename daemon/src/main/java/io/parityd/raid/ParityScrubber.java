package io.parityd.raid;

import java.io.IOException;
import java.io.InterruptedIOException;

/**
 * Checks, and optionally repairs, the redundancy of a {@link RaidVolume} over all its stripes:
 * the entry point of {@code parityd check} and of the background resync. The work is the
 * volume's own ({@link RaidVolume#scrub}); this class keeps the short calls and the
 * {@link Progress} callback type they share.
 */
public final class ParityScrubber {

    /** Mismatching stripe numbers a report lists unless told otherwise. */
    public static final int DEFAULT_MAX_REPORTED = 100;

    /** Told after every stripe, outside the stripe lock, so a CLI can draw a progress bar. */
    @FunctionalInterface
    public interface Progress {
        void update(long stripesDone, long stripesTotal);
    }

    private final RaidVolume volume;

    public ParityScrubber(RaidVolume volume) {
        this.volume = volume;
    }

    /** Scrubs every stripe, listing up to {@link #DEFAULT_MAX_REPORTED} mismatches. */
    public ScrubReport scrub(boolean repair, Progress progress) throws IOException {
        return scrub(0, volume.geometry().stripes(), repair, DEFAULT_MAX_REPORTED, progress);
    }

    /**
     * Scrubs stripes {@code [fromStripe, toStripe)}; see {@link RaidVolume#scrub}.
     *
     * @throws InterruptedIOException if the thread is interrupted; stripes done so far stay done
     */
    public ScrubReport scrub(long fromStripe, long toStripe, boolean repair, int maxReported, Progress progress)
            throws IOException {
        return volume.scrub(fromStripe, toStripe, repair, maxReported, progress);
    }
}
