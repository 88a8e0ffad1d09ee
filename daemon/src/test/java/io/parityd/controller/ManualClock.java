package io.parityd.controller;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link MonotonicClock} that moves only when a test moves it, so lease and timeout tests
 * advance time instead of sleeping. Like {@link System#nanoTime()} it may start anywhere and wraps
 * past {@link Long#MAX_VALUE}; it refuses to go back. Safe to read from any thread.
 */
public final class ManualClock implements MonotonicClock {

    private final AtomicLong nanos;

    /** A clock at 0. */
    public ManualClock() {
        this(0);
    }

    public ManualClock(long startNanos) {
        this.nanos = new AtomicLong(startNanos);
    }

    @Override
    public long nanos() {
        return nanos.get();
    }

    /** Moves the clock forward by {@code step}, wrapping as {@code nanoTime} does. */
    public void advance(Duration step) {
        if (step.isNegative()) {
            throw new IllegalArgumentException("a monotonic clock does not go back: " + step);
        }
        long by = step.toNanos();
        nanos.getAndAdd(by);
    }

    /** Moves the clock forward to {@code to}, which may lie past a wrap. */
    public void set(long to) {
        nanos.getAndUpdate(now -> {
            if (to - now < 0) {
                throw new IllegalArgumentException("a monotonic clock does not go back: " + now + " to " + to);
            }
            return to;
        });
    }
}
