package io.parityd.protocol;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Keeps one kind of log line that clients can cause at will (refused requests, timed-out
 * handshakes, attaches) from flooding the log: at most {@code burst} lines per window; past that
 * the lines are only counted, and the first line after the window, or {@link #flush()}, says how
 * many were left out: "... and 1,234 more refused requests suppressed in the last 10 s". One
 * client once wrote 294 MiB of log in 20 s through one INFO line per refusal (issue 14).
 *
 * <p>One instance per kind of line, shared by every connection of a server, so a flood from many
 * connections is bounded as well as one from a single connection. Thread-safe; the lock is held
 * only to count. Nothing is formatted for a line that is suppressed or below the logger's level.
 */
public final class LogThrottle {

    /** How long a window lasts when not given: long enough to matter, short enough to read as "now". */
    public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);

    private final Logger log;
    private final Level level;
    private final String what;
    private final int burst;
    private final long windowNanos;
    private final LongSupplier clock;

    private long windowStart;
    private int logged;
    private long suppressed;

    /**
     * @param log    where the lines and the summaries go
     * @param level  the level of both
     * @param what   the plural noun the summary counts, e.g. "refused requests"
     * @param burst  lines logged per window before suppression starts
     * @param window how long a window lasts
     * @param clock  nanosecond clock ({@code System::nanoTime}; tests pass a manual one)
     */
    public LogThrottle(Logger log, Level level, String what, int burst, Duration window, LongSupplier clock) {
        if (burst < 1 || window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("a log throttle needs a burst of at least 1 and a positive window");
        }
        this.log = Objects.requireNonNull(log, "log");
        this.level = Objects.requireNonNull(level, "level");
        this.what = Objects.requireNonNull(what, "what");
        this.burst = burst;
        this.windowNanos = window.toNanos();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.windowStart = clock.getAsLong();
    }

    /** {@code burst} lines per {@link #DEFAULT_WINDOW} on the system clock. */
    public static LogThrottle of(Logger log, Level level, String what, int burst) {
        return new LogThrottle(log, level, what, burst, DEFAULT_WINDOW, System::nanoTime);
    }

    /** Logs the line ({@code format} as SLF4J takes it) unless this window's burst is spent; then counts it. */
    public void log(String format, Object... args) {
        if (!log.isEnabledForLevel(level)) {
            return;
        }
        long report;
        long elapsed;
        boolean admitted;
        synchronized (this) {
            long now = clock.getAsLong();
            elapsed = now - windowStart;
            report = elapsed >= windowNanos ? startWindow(now) : 0;
            admitted = logged < burst;
            if (admitted) {
                logged++;
            } else {
                suppressed++;
            }
        }
        summarize(report, elapsed);
        if (admitted) {
            emit(format, args);
        }
    }

    /** As SLF4J's own methods do, a Throwable last among the arguments is the line's cause, stack trace and all. */
    private void emit(String format, Object[] args) {
        LoggingEventBuilder line = log.atLevel(level);
        if (args.length > 0 && args[args.length - 1] instanceof Throwable cause) {
            line = line.setCause(cause);
            args = Arrays.copyOf(args, args.length - 1);
        }
        line.log(format, args);
    }

    /** Says how many lines were suppressed, if any were and their window is over. Called by a timer. */
    public void flush() {
        long report;
        long elapsed;
        synchronized (this) {
            long now = clock.getAsLong();
            elapsed = now - windowStart;
            report = elapsed >= windowNanos ? startWindow(now) : 0;
        }
        summarize(report, elapsed);
    }

    /** Lines suppressed so far in this window, not yet reported. */
    public synchronized long suppressed() {
        return suppressed;
    }

    /** Opens a new window; returns how many lines the old one suppressed. Caller holds the lock. */
    private long startWindow(long now) {
        long report = suppressed;
        windowStart = now;
        logged = 0;
        suppressed = 0;
        return report;
    }

    private void summarize(long count, long elapsedNanos) {
        if (count > 0) {
            log.atLevel(level).log(String.format(Locale.ROOT, "... and %,d more %s suppressed in the last %d s",
                    count, what, Math.round(elapsedNanos / 1e9)));
        }
    }
}
