package io.parityd.controller;

/**
 * The time a controller's lease is measured in: nanoseconds from an arbitrary origin that never
 * goes back, so a wall-clock step (NTP, an operator's {@code date}) can neither stretch nor cut a
 * lease. Injected so tests advance time instead of sleeping (DESIGN.md "Failover and fencing").
 * Only differences between two readings mean anything; compare them as {@code a - b < 0}, which
 * stays right when the counter wraps.
 */
@FunctionalInterface
public interface MonotonicClock {

    /** The JVM's monotonic clock, {@link System#nanoTime()}. */
    MonotonicClock SYSTEM = System::nanoTime;

    /** The current reading, in nanoseconds. */
    long nanos();
}
