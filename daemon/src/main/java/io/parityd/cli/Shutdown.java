package io.parityd.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Turns SIGTERM and SIGINT into an orderly stop. A JVM shutdown hook would run too, but the
 * process would then exit with status 143; handling the signals ourselves lets {@code serve}
 * finish its in-flight requests, mark the array clean and exit 0, as systemd expects of a
 * clean stop.
 */
final class Shutdown {

    private static final Logger log = LoggerFactory.getLogger(Shutdown.class);

    private final CountDownLatch requested = new CountDownLatch(1);
    private final String action;

    private Shutdown(String action) {
        this.action = action;
    }

    static Shutdown onSignals() {
        return onSignals("finishing in-flight requests, flushing, then exiting");
    }

    /** @param action what the process does on a stop, for the log line */
    static Shutdown onSignals(String action) {
        Shutdown s = new Shutdown(action);
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> s.request("SIG" + signal.getName()));
        }
        return s;
    }

    /**
     * How long a stop may take before the process halts anyway. Under systemd's default
     * TimeoutStopSec (90 s) a unit that hangs is killed without a word; this says what it was
     * waiting for first. A halted stop is a crash as far as the array is concerned: the journal
     * (or a resync) makes the next start consistent.
     */
    static final Duration STOP_BOUND = Duration.ofSeconds(60);

    private void request(String why) {
        if (requested.getCount() == 0) {
            log.info("{} received again; still {}", why, action);
            return;
        }
        log.info("{} received: {}", why, action);
        requested.countDown();
        Thread watchdog = new Thread(this::haltIfStillRunning, "parityd-stop-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    private void haltIfStillRunning() {
        try {
            Thread.sleep(STOP_BOUND.toMillis());
        } catch (InterruptedException e) {
            return;
        }
        StringBuilder stuck = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, frames) -> {
            if (!t.isDaemon() || t.getName().startsWith("parityd")) {
                stuck.append("\n  ").append(t.getName()).append(": ")
                        .append(frames.length == 0 ? "(no frames)" : frames[0] + (frames.length > 1 ? " <- " + frames[1] : ""));
            }
        });
        log.error("still not stopped {} s after the signal; halting with status 1 (the next start recovers as after"
                + " a crash). Threads:{}", STOP_BOUND.toSeconds(), stuck);
        Runtime.getRuntime().halt(1);
    }

    /** Whether a stop was asked for. */
    boolean requested() {
        return requested.getCount() == 0;
    }

    void await() throws InterruptedException {
        requested.await();
    }

    /** Waits up to {@code millis} for a stop; true once one was asked for. */
    boolean await(long millis) throws InterruptedException {
        return requested.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
}
