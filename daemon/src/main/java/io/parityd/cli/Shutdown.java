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

    private Shutdown() {
    }

    static Shutdown onSignals() {
        Shutdown s = new Shutdown();
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), signal -> s.request("SIG" + signal.getName()));
        }
        return s;
    }

    private void request(String why) {
        if (requested.getCount() == 0) {
            log.info("{} received again; still finishing in-flight requests", why);
            return;
        }
        log.info("{} received: finishing in-flight requests, flushing, then exiting", why);
        requested.countDown();
    }

    void await() throws InterruptedException {
        requested.await();
    }
}
