package io.parityd.controller;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Errors a storage daemon must not limp on after. An {@link OutOfMemoryError} caught on a
 * request's path (direct memory for a buffer, the heap) can leave a reservation held or a
 * record unretired for good, and the daemon wedged with a full journal (issue 14, defect 2); the
 * launcher's {@code -XX:+ExitOnOutOfMemoryError} covers only the errors the JVM itself throws,
 * not "cannot reserve direct buffer memory". So every place that catches what a request threw
 * passes it here first: the process says what happened and halts with
 * {@link #EXIT_OUT_OF_MEMORY}, which the systemd units restart, and the journal makes the
 * restart as safe as after a crash.
 */
public final class FatalErrors {

    private static final Logger log = LoggerFactory.getLogger(FatalErrors.class);

    /** EX_SOFTWARE from sysexits.h: an internal error; systemd's Restart= restarts on it. */
    public static final int EXIT_OUT_OF_MEMORY = 70;

    private FatalErrors() {
    }

    /** Halts the process if {@code e}, or anything in its cause chain, is an {@link OutOfMemoryError}. */
    public static void haltOnOutOfMemory(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof OutOfMemoryError oom) {
                try {
                    log.error("out of memory: {}. Halting with status {} so that the service manager restarts"
                            + " parityd (the journal recovers what was in flight); raise -Xmx or"
                            + " -XX:MaxDirectMemorySize in PARITYD_JAVA_OPTS if this recurs", oom.toString(),
                            EXIT_OUT_OF_MEMORY);
                } finally {
                    Runtime.getRuntime().halt(EXIT_OUT_OF_MEMORY);
                }
            }
        }
    }
}
