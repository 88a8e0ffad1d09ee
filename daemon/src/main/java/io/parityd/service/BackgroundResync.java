package io.parityd.service;

import io.parityd.raid.ParityScrubber;
import io.parityd.raid.Raid5Volume;
import io.parityd.raid.ScrubReport;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recomputes the parity of every stripe while the volume is being served, as md does after an
 * unclean shutdown of an array without a write-intent bitmap: a stripe that was being written at
 * the crash may hold new data and old parity. The scrubber takes each stripe's lock, so client
 * writes and the resync never interleave within a stripe. Until the NVRAM journal narrows this
 * to the stripes that were really in flight, the whole array is walked.
 */
final class BackgroundResync {

    private static final Logger log = LoggerFactory.getLogger(BackgroundResync.class);

    /** Stripes per pass: small enough that a stop request is seen within a fraction of a second. */
    private static final long BATCH = 256;

    private final Raid5Volume volume;
    private final Thread thread;
    private volatile boolean stop;
    private volatile boolean finished;
    private volatile long repaired;

    BackgroundResync(Raid5Volume volume) {
        this.volume = volume;
        this.thread = new Thread(this::run, "parityd-resync");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** True once every stripe has been checked (and fixed where needed). */
    boolean finished() {
        return finished;
    }

    /** Asks the resync to stop after its current batch and waits for it. */
    void stop() throws InterruptedException {
        stop = true;
        thread.join(TimeUnit.MINUTES.toMillis(1));
    }

    private void run() {
        long stripes = volume.geometry().stripes();
        long started = System.nanoTime();
        long nextReport = stripes / 10;
        ParityScrubber scrubber = new ParityScrubber(volume);
        log.info("resync of '{}' started: {} stripes to check", volume.geometry().name(), stripes);
        try {
            for (long from = 0; from < stripes && !stop; from += BATCH) {
                long to = Math.min(stripes, from + BATCH);
                ScrubReport report = scrubber.scrub(from, to, true, 0, null);
                repaired += report.repaired();
                if (to >= nextReport && to < stripes) {
                    log.info("resync of '{}': {}% ({} of {} stripes, {} fixed)", volume.geometry().name(),
                            to * 100 / stripes, to, stripes, repaired);
                    nextReport += stripes / 10;
                }
            }
        } catch (IOException | RuntimeException e) {
            log.error("resync of '{}' failed; the array stays marked dirty and resyncs again at the next start",
                    volume.geometry().name(), e);
            return;
        }
        if (stop) {
            log.info("resync of '{}' interrupted by shutdown; it starts over at the next start", volume.geometry().name());
            return;
        }
        finished = true;
        log.info("resync of '{}' complete: {} stripes checked, {} had wrong parity and were fixed, in {} s",
                volume.geometry().name(), stripes, repaired, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
    }
}
