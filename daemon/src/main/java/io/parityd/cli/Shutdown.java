package io.parityd.cli;

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

    private void request(String why) {
        if (requested.getCount() == 0) {
            log.info("{} received again; still {}", why, action);
            return;
        }
        log.info("{} received: {}", why, action);
        requested.countDown();
    }

    void await() throws InterruptedException {
        requested.await();
    }

    /** Waits up to {@code millis} for a stop; true once one was asked for. */
    boolean await(long millis) throws InterruptedException {
        return requested.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
}
