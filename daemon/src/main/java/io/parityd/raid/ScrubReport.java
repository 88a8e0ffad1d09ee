package io.parityd.raid;

import java.util.List;

/**
 * What a scrub found ({@link RaidVolume#scrub}).
 *
 * @param stripesChecked   stripes whose redundancy was compared
 * @param mismatches       stripes whose stored parity (or mirror copy) differed from their data
 * @param firstMismatches  the first mismatching stripe numbers, ascending, at most the number
 *                         asked for; {@code mismatches} may be larger
 * @param repaired         stripes rewritten to match (0 unless repair was asked for)
 * @param unchecked        stripes that could not be checked: too few members serve them to have
 *                         anything to compare (a degraded RAID-5, RAID-0 always)
 */
public record ScrubReport(long stripesChecked, long mismatches, List<Long> firstMismatches, long repaired,
                          long unchecked) {

    public ScrubReport {
        firstMismatches = List.copyOf(firstMismatches);
    }

    /** A report of a scrub that could check every stripe it was given. */
    public ScrubReport(long stripesChecked, long mismatches, List<Long> firstMismatches, long repaired) {
        this(stripesChecked, mismatches, firstMismatches, repaired, 0);
    }

    /** True if every checked stripe matched. Says nothing of {@link #unchecked()} stripes. */
    public boolean clean() {
        return mismatches == 0;
    }
}
