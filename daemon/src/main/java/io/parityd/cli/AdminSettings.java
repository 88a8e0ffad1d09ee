package io.parityd.cli;

import io.parityd.admin.AdminPaths;
import java.io.PrintStream;
import java.time.Duration;

/**
 * What the commands that talk to a running daemon take from their surroundings, fixed once so
 * tests can give their own: where admin sockets are looked for, how often a waiting command
 * polls, and where progress bars go (none when output is not a terminal).
 *
 * @param paths        where {@code --name} and the no-option default look for sockets
 * @param pollInterval how often {@code replace} and {@code scrub} ask for progress while waiting
 * @param progressBars the terminal stream progress bars are drawn on, or null for no bars
 */
record AdminSettings(AdminPaths paths, Duration pollInterval, PrintStream progressBars) {

    /** Often enough for a bar that moves smoothly, seldom enough that the daemon does not notice. */
    static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(500);

    static AdminSettings fromEnvironment() {
        return new AdminSettings(AdminPaths.fromEnvironment(), DEFAULT_POLL_INTERVAL, System.console() != null ? System.err : null);
    }
}
