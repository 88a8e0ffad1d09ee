package io.parityd.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The counters behind {@link ArrayEvents}, registered once per slot:
 * <pre>
 * parityd_member_failures_total{slot}       times the member failed (I/O error, failed sync, operator)
 * parityd_parity_mismatches_found_total     stripes whose parity did not match their data when checked
 * </pre>
 */
public final class ArrayCounters implements ArrayEvents {

    private final Counter[] failures;
    private final Counter mismatches;

    public ArrayCounters(MeterRegistry registry, int slots) {
        failures = new Counter[slots];
        for (int slot = 0; slot < slots; slot++) {
            failures[slot] = Counter.builder("parityd.member.failures")
                    .description("times the member failed: an I/O error, a failed sync, or an operator's fail")
                    .tag("slot", Integer.toString(slot)).register(registry);
        }
        mismatches = Counter.builder("parityd.parity.mismatches.found")
                .description("stripes whose parity did not match their data when a scrub, resync or journal replay"
                        + " checked them").register(registry);
    }

    @Override
    public void memberFailed(int slot) {
        if (slot >= 0 && slot < failures.length) {
            failures[slot].increment();
        }
    }

    @Override
    public void mismatchesFound(long count) {
        mismatches.increment(count);
    }
}
