package io.parityd.protocol;

import java.util.function.LongSupplier;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * What one server's clients can make it log, throttled: one {@link LogThrottle} per kind of line,
 * shared by all of the server's connections. No static state: two servers in one JVM keep their
 * own. The loggers are named by kind ({@code io.parityd.nbd.problem}, {@code .session},
 * {@code .refusal}), so an operator can quieten one kind with the logging configuration.
 *
 * @param problems   what clients get wrong (WARN): protocol violations in either phase, handshake
 *                   time-outs, unknown export names, too many options
 * @param sessions   clients attaching to an export and detaching from it (INFO)
 * @param refusals   requests refused before they reach storage, and connections refused (INFO)
 */
public record ConnectionLogs(LogThrottle problems, LogThrottle sessions, LogThrottle refusals) {

    public static final String PROBLEM_LOGGER = "io.parityd.nbd.problem";
    public static final String SESSION_LOGGER = "io.parityd.nbd.session";
    public static final String REFUSAL_LOGGER = "io.parityd.nbd.refusal";

    /**
     * Ten problem lines, thirty attach or detach lines and ten refusals per ten seconds: enough to
     * see every client of an ordinary day (a kernel client attaching with four connections, a
     * restart that brings a dozen back), at most a few kilobytes a second whatever a flood does.
     */
    private static final int PROBLEM_BURST = 10;
    private static final int SESSION_BURST = 30;
    private static final int REFUSAL_BURST = 10;

    /** A fresh set on the system clock. */
    public static ConnectionLogs create() {
        return create(System::nanoTime);
    }

    /** A fresh set on {@code clock} (nanoseconds). */
    public static ConnectionLogs create(LongSupplier clock) {
        return new ConnectionLogs(
                throttle(PROBLEM_LOGGER, Level.WARN, "protocol problems", PROBLEM_BURST, clock),
                throttle(SESSION_LOGGER, Level.INFO, "attach and detach lines", SESSION_BURST, clock),
                throttle(REFUSAL_LOGGER, Level.INFO, "refusals", REFUSAL_BURST, clock));
    }

    /** Reports what each throttle suppressed in a window that is over; a server calls this every window. */
    public void flush() {
        problems.flush();
        sessions.flush();
        refusals.flush();
    }

    private static LogThrottle throttle(String logger, Level level, String what, int burst, LongSupplier clock) {
        return new LogThrottle(LoggerFactory.getLogger(logger), level, what, burst, LogThrottle.DEFAULT_WINDOW, clock);
    }
}
