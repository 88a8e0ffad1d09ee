package io.parityd.raid;

import io.parityd.block.IoFailures;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The background rebuild of one slot (DESIGN.md "RAID": a replace triggers an online rebuild
 * with progress). A thread walks the stripes from the start position in batches of about
 * {@link RebuildTuning#batchBytes()} per member; each batch is locked, filled from the other
 * members ({@link RebuildSource}), written to the new device in one request, and only then does
 * the slot's position move past it, all under the batch's stripe locks. So clients keep reading
 * and writing: a write below the position also goes to the new device, a write above it skips
 * the slot and the rebuild later reconstructs it with the new contents.
 *
 * <p>Progress: at most once per {@link RebuildTuning#progressNanos()}, the new device is flushed
 * and then the position is reported, so a persisted position never claims stripes that a power
 * loss could take back. The end flushes, makes the slot ACTIVE and reports
 * {@link SlotListener#rebuildFinished}; a stop (failure beyond redundancy, the new device failing,
 * or {@link #stop()}) reports {@link SlotListener#rebuildStopped} with the position reached.
 */
final class Rebuilder {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Rebuilder.class);

    private final int slot;
    private final long stripes;
    private final int chunk;
    private final MemberSlots members;
    private final StripeLocks locks;
    private final Layout layout;
    private final RebuildSource source;
    private final SlotListener listener;
    private final RebuildTuning tuning;
    private final Thread thread;
    private final LongSupplier rateLimit;
    /** A re-add: only the regions the write intent marks are rebuilt; the rest is current already. */
    private final boolean onlyMarked;
    private final String name;
    private volatile boolean stopping;
    private volatile long position;
    /** Stripes actually reconstructed (a re-add skips the rest). */
    private long reconstructed;

    Rebuilder(int slot, long from, ArrayGeometry geometry, MemberSlots members, StripeLocks locks, Layout layout,
              RebuildSource source, SlotListener listener, RebuildTuning tuning, LongSupplier rateLimit,
              boolean onlyMarked) {
        this.rateLimit = rateLimit;
        this.onlyMarked = onlyMarked;
        this.name = geometry.name();
        this.slot = slot;
        this.stripes = geometry.stripes();
        this.chunk = geometry.chunkSize();
        this.members = members;
        this.locks = locks;
        this.layout = layout;
        this.source = source;
        this.listener = listener;
        this.tuning = tuning;
        this.position = from;
        this.thread = new Thread(this::run, "parityd-rebuild-" + geometry.name() + "-" + slot);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    long position() {
        return position;
    }

    boolean running() {
        return thread.isAlive();
    }

    /** Asks the rebuild to stop after its current batch and waits for it. */
    void stop() {
        stopping = true;
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        int batch = (int) Math.max(1, Math.min(tuning.batchBytes() / chunk, Integer.MAX_VALUE / chunk));
        ByteBuffer target = StripeWriter.alignedDirect(batch * chunk);
        long lastReport = System.nanoTime();
        long paceStart = lastReport;
        long written = 0;
        try {
            while (position < stripes) {
                if (stopping) {
                    listener.rebuildStopped(slot, position, new IOException("rebuild of slot " + slot
                            + " stopped at stripe " + position + " because the volume is closing"));
                    return;
                }
                long next = Math.min(stripes, position + batch);
                if (onlyMarked) { // one region at a time, so each batch is all marked or all current
                    long region = members.intent().regionStripes();
                    next = Math.min(next, (position / region + 1) * region);
                }
                boolean copied = copyBatch(position, next, target);
                written += copied ? (next - position) * chunk : 0;
                position = next;
                if (rateLimit.getAsLong() > 0) {
                    pace(paceStart, written);
                } else {
                    // Unlimited: restart the count, so a limit set later paces from that moment.
                    paceStart = System.nanoTime();
                    written = 0;
                }
                if (System.nanoTime() - lastReport >= tuning.progressNanos() && position < stripes) {
                    flushTarget();
                    listener.rebuildProgress(slot, position);
                    members.rebuildRecorded(slot, position);
                    lastReport = System.nanoTime();
                }
            }
            flushTarget();
            if (!members.finishRebuild(slot)) {
                throw new IOException("slot " + slot + " failed at the end of its rebuild");
            }
            if (onlyMarked) {
                log.info("array '{}': re-add of slot {}: resynced {} of {} stripes, the regions written while it was"
                        + " away", name, slot, reconstructed, stripes);
            }
            listener.rebuildFinished(slot);
            members.rebuildFinishRecorded(slot);
            members.intent().stopRecording(() -> members.downCount() == 0);
            members.failPending();
        } catch (IOException | RuntimeException e) {
            listener.rebuildStopped(slot, position, e);
        }
    }

    /**
     * Holds the rebuild back to the operator's rate limit (md's speed_limit_max): waits until
     * {@code written} bytes since {@code since} fit under it. Called outside any stripe lock, and
     * wakes often enough to notice a stop.
     */
    private void pace(long since, long written) {
        long due = since + (long) (written * 1e9 / rateLimit.getAsLong());
        for (long now = System.nanoTime(); now < due && !stopping; now = System.nanoTime()) {
            LockSupport.parkNanos(Math.min(due - now, 50_000_000L));
        }
    }

    /**
     * Rebuilds stripes [from, to) under their locks; in a re-add, only if the write intent marks
     * them (checked under the locks: a write marks its region before it takes them).
     *
     * @return false if a re-add found them current and skipped them
     */
    private boolean copyBatch(long from, long to, ByteBuffer target) throws IOException {
        locks.lock(from, to - 1);
        try {
            checkStillRebuilding();
            if (onlyMarked && !members.intent().marked(from, to)) {
                members.advance(slot, to);
                return false;
            }
            int length = (int) (to - from) * chunk;
            target.clear().limit(length);
            for (int attempt = 0; !source.fill(slot, from, to, target); attempt++) {
                members.checkRetries(attempt, from);
                checkStillRebuilding();
            }
            target.clear().limit(length);
            if (!members.write(slot, target, layout.memberOffset(from, 0))) {
                throw new IOException("rebuild of slot " + slot + " stopped at stripe " + from
                        + ": writing the new device failed");
            }
            members.advance(slot, to);
            reconstructed += to - from;
            return true;
        } finally {
            locks.unlock(from, to - 1);
        }
    }

    private void checkStillRebuilding() throws IOException {
        if (members.state(slot) != MemberState.REBUILDING) {
            throw new IOException("rebuild of slot " + slot + " stopped at stripe " + position
                    + ": the slot is " + members.state(slot));
        }
    }

    private void flushTarget() throws IOException {
        IoFailures failures = new IoFailures();
        if (!members.flush(slot, failures)) {
            failures.throwIfAny();
        }
    }

    @Override
    public String toString() {
        return "rebuild of slot " + slot + " at stripe " + position + " of " + stripes
                + (stopping ? " (stopping)" : "") + ", " + TimeUnit.NANOSECONDS.toMillis(tuning.progressNanos())
                + " ms between reports";
    }
}
