package io.parityd.raid;

import java.util.List;

/**
 * What a {@link ParityScrubber} run found.
 *
 * @param stripesChecked   stripes whose parity was compared
 * @param mismatches       stripes whose stored parity differed from the XOR of their data
 * @param firstMismatches  the first mismatching stripe numbers, ascending, at most the number
 *                         asked for; {@code mismatches} may be larger
 * @param repaired         stripes whose parity was rewritten (0 unless repair was asked for)
 */
public record ScrubReport(long stripesChecked, long mismatches, List<Long> firstMismatches, long repaired) {

    public ScrubReport {
        firstMismatches = List.copyOf(firstMismatches);
    }

    /** True if every checked stripe's parity matched. */
    public boolean clean() {
        return mismatches == 0;
    }
}
