package io.parityd.raid;

import io.parityd.block.BlockDevice;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks every serving member, every {@link #INTERVAL}, whether it is {@linkplain BlockDevice#lost
 * lost} although its I/O still succeeds (a member file deleted while open), and fails the ones
 * that are, as an I/O error would: the array runs degraded, the failure is recorded in the other
 * superblocks, and status, metrics and alerts show it now instead of at the next start. Runs
 * while the volume's background work runs ({@link VolumeCore#resumeRebuilds} to
 * {@link VolumeCore#stopRebuilds}); the array checks once more before it is marked clean
 * ({@code AssembledArray.markClean}).
 */
final class MemberWatch {

    private static final Logger log = LoggerFactory.getLogger(MemberWatch.class);

    /**
     * Every 2 s: a check is one {@code fstat} per member, microseconds; writes made meanwhile
     * still reach the other members (and the lost file, until it closes), so nothing is lost in
     * the window, and 2 s keeps it well under a scrape interval, so the alert shows at the next
     * scrape. Shorter would buy nothing an operator can act on.
     */
    static final Duration INTERVAL = Duration.ofSeconds(2);

    private final String name;
    private final MemberSlots members;
    private ScheduledExecutorService timer;

    MemberWatch(String name, MemberSlots members) {
        this.name = name;
        this.members = members;
    }

    /** Starts checking every {@link #INTERVAL}; a second call does nothing. */
    synchronized void start() {
        if (timer != null) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "parityd-member-watch");
            t.setDaemon(true);
            return t;
        });
        long every = INTERVAL.toMillis();
        timer.scheduleWithFixedDelay(this::checkLogged, every, every, TimeUnit.MILLISECONDS);
    }

    /** Stops checking; a check under way finishes. */
    synchronized void stop() {
        if (timer != null) {
            timer.shutdown();
        }
    }

    /**
     * Checks every ACTIVE or REBUILDING slot now and fails each lost one.
     *
     * @return how many it failed
     */
    int checkNow() {
        int failed = 0;
        for (int slot = 0; slot < members.count(); slot++) {
            MemberState state = members.state(slot);
            BlockDevice device = members.device(slot);
            if ((state != MemberState.ACTIVE && state != MemberState.REBUILDING) || device == null) {
                continue;
            }
            IOException why = lost(device);
            if (why != null) {
                log.error("array '{}': slot {}: {}; failing it, the array runs degraded until it is replaced"
                        + " (parityd replace {} NEW-MEMBER)", name, slot, why.getMessage(), slot);
                members.fail(slot, why);
                failed++;
            }
        }
        return failed;
    }

    /** What makes {@code device} lost, as the failure to record; null if it is not. */
    private static IOException lost(BlockDevice device) {
        try {
            String reason = device.lost();
            return reason == null ? null : new IOException(reason);
        } catch (IOException e) {
            return e; // it cannot even be asked: an I/O error of that member like any other
        }
    }

    /**
     * A scheduled run: a failure escaping it would cancel every later run silently, so it is
     * logged here and the next run tries again.
     */
    private void checkLogged() {
        try {
            checkNow();
        } catch (RuntimeException e) {
            log.error("array '{}': checking the members for deleted files failed; trying again in {}: {}", name,
                    INTERVAL, e.toString());
        }
    }
}
