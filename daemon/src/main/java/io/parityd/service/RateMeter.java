package io.parityd.service;

import java.util.ArrayDeque;
import java.util.function.LongSupplier;

/**
 * Rate and time-to-finish of a long task from progress samples, over a sliding window so the
 * figure follows the current speed rather than the average since the start (a rebuild slows down
 * while clients are busy). Thread-safe.
 */
final class RateMeter {

    /** Thirty seconds: long enough to smooth bursts, short enough to show a change within a minute. */
    private static final long WINDOW_NANOS = 30_000_000_000L;

    private record Sample(long nanos, long done) {
    }

    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private final LongSupplier clock;

    RateMeter(LongSupplier nanoClock) {
        this.clock = nanoClock;
    }

    RateMeter() {
        this(System::nanoTime);
    }

    synchronized void sample(long done) {
        long now = clock.getAsLong();
        samples.addLast(new Sample(now, done));
        while (samples.size() > 2 && now - samples.peekFirst().nanos() > WINDOW_NANOS) {
            samples.removeFirst();
        }
    }

    /** Units per second over the window; 0 until two samples a moment apart exist. */
    synchronized double perSecond() {
        if (samples.size() < 2) {
            return 0;
        }
        Sample first = samples.peekFirst();
        Sample last = samples.peekLast();
        long nanos = last.nanos() - first.nanos();
        return nanos <= 0 ? 0 : (last.done() - first.done()) * 1e9 / nanos;
    }

    /** Seconds until {@code total} at the current rate, or -1 if unknown. */
    synchronized long etaSeconds(long done, long total) {
        double rate = perSecond();
        return rate <= 0 ? -1 : (long) Math.ceil((total - done) / rate);
    }
}
