package io.parityd.service;

import io.parityd.raid.RaidVolume;
import io.parityd.raid.ScrubReport;
import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A walk over every stripe in the background while clients are served: a <b>resync</b> after an
 * unclean stop (md's resync: recompute redundancy everywhere, because the stripes being written at
 * the crash may be inconsistent), or an operator's <b>check</b> (count mismatches) or
 * <b>repair</b> (fix them). The volume locks each stripe while it checks it, so client writes and
 * the walk never interleave within a stripe. Stops between batches when asked.
 */
final class ScrubTask {

    private static final Logger log = LoggerFactory.getLogger(ScrubTask.class);

    /** Stripes per pass: small enough that a stop request is seen within a fraction of a second. */
    private static final long BATCH = 256;

    enum Kind {
        RESYNC, CHECK, REPAIR;

        String word() {
            return name().toLowerCase(Locale.ROOT);
        }

        boolean repairs() {
            return this != CHECK;
        }
    }

    private final RaidVolume volume;
    private final Kind kind;
    private final Thread thread;
    private final RateMeter rate = new RateMeter();
    private volatile boolean stop;
    private volatile boolean finished;
    private volatile boolean failed;
    private volatile long done;
    private volatile long mismatches;
    private volatile long repaired;
    private volatile long unchecked;
    private volatile java.time.Instant ended;

    private final io.parityd.metrics.ArrayEvents events;

    ScrubTask(RaidVolume volume, Kind kind) {
        this(volume, kind, io.parityd.metrics.ArrayEvents.NONE);
    }

    ScrubTask(RaidVolume volume, Kind kind, io.parityd.metrics.ArrayEvents events) {
        this.volume = volume;
        this.kind = kind;
        this.events = events;
        this.thread = new Thread(this::run, "parityd-" + kind.word());
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    Kind kind() {
        return kind;
    }

    /** True once every stripe was walked (and fixed, for resync and repair). */
    boolean finished() {
        return finished;
    }

    /** True while the walk is under way. */
    boolean running() {
        return thread.isAlive();
    }

    boolean failed() {
        return failed;
    }

    long done() {
        return done;
    }

    long total() {
        return volume.geometry().stripes();
    }

    long mismatches() {
        return mismatches;
    }

    long repaired() {
        return repaired;
    }

    long unchecked() {
        return unchecked;
    }

    RateMeter rate() {
        return rate;
    }

    /** When the walk ended (complete or not), or null while it runs. */
    java.time.Instant ended() {
        return ended;
    }

    /** Asks the walk to stop after its current batch and waits for it. */
    void stop() throws InterruptedException {
        stop = true;
        thread.join(TimeUnit.MINUTES.toMillis(1));
    }

    /** Waits for the walk to end by itself (tests, and the check command's offline use). */
    void await() throws InterruptedException {
        thread.join();
    }

    private void run() {
        try {
            walk();
        } finally {
            ended = java.time.Instant.now();
        }
    }

    private void walk() {
        long stripes = total();
        String name = volume.geometry().name();
        long started = System.nanoTime();
        long nextReport = stripes / 10;
        log.info("{} of '{}' started: {} stripes", kind.word(), name, stripes);
        try {
            for (long from = 0; from < stripes && !stop; from += BATCH) {
                long to = Math.min(stripes, from + BATCH);
                ScrubReport report = volume.scrub(from, to, kind.repairs(), 0, null);
                mismatches += report.mismatches();
                if (report.mismatches() > 0) {
                    events.mismatchesFound(report.mismatches());
                }
                repaired += report.repaired();
                unchecked += report.unchecked();
                done = to;
                rate.sample(to);
                if (to >= nextReport && to < stripes) {
                    log.info("{} of '{}': {}% ({} of {} stripes, {} mismatches)", kind.word(), name, to * 100 / stripes,
                            to, stripes, mismatches);
                    nextReport += stripes / 10;
                }
            }
        } catch (IOException | RuntimeException e) {
            failed = true;
            log.error("{} of '{}' failed after {} stripes", kind.word(), name, done, e);
            return;
        }
        if (stop) {
            log.info("{} of '{}' interrupted by shutdown after {} of {} stripes", kind.word(), name, done, stripes);
            return;
        }
        finished = true;
        log.info("{} of '{}' complete: {} stripes, {} mismatches{}{}, in {} s", kind.word(), name, stripes, mismatches,
                kind.repairs() ? ", " + repaired + " fixed" : "", unchecked > 0 ? ", " + unchecked + " could not be checked" : "",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
    }
}
