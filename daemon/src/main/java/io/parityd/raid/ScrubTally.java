package io.parityd.raid;

import java.util.ArrayList;
import java.util.List;

/** Counts a scrub's outcomes stripe by stripe and turns them into a {@link ScrubReport}. */
final class ScrubTally {

    static final int MATCH = 0;
    static final int MISMATCH = 1;
    static final int REPAIRED = 2;
    static final int UNCHECKED = 3;

    private final long total;
    private final int maxReported;
    private final List<Long> first = new ArrayList<>();
    private long mismatches;
    private long repaired;
    private long unchecked;

    /** Checks the range before anything is read. */
    ScrubTally(ArrayGeometry geometry, long fromStripe, long toStripe, int maxReported) {
        long stripes = geometry.stripes();
        if (fromStripe < 0 || toStripe > stripes || fromStripe > toStripe || maxReported < 0) {
            throw new IllegalArgumentException("bad scrub range [" + fromStripe + ", " + toStripe
                    + ") of " + stripes + " stripes, maxReported " + maxReported);
        }
        this.total = toStripe - fromStripe;
        this.maxReported = maxReported;
    }

    void add(long stripe, int outcome, boolean repair) {
        switch (outcome) {
            case UNCHECKED -> unchecked++;
            case MISMATCH, REPAIRED -> {
                mismatches++;
                repaired += outcome == REPAIRED ? 1 : 0;
                if (first.size() < maxReported) {
                    first.add(stripe);
                }
            }
            default -> {
            }
        }
    }

    ScrubReport report(boolean repair) {
        return new ScrubReport(total - unchecked, mismatches, first, repair ? repaired : 0, unchecked);
    }
}
