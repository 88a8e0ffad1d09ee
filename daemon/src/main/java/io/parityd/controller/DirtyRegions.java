package io.parityd.controller;

import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalFormat;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable dirty-region marks of a commands journal (DESIGN.md "NVRAM", issue 15), kept the way
 * md keeps its write-intent bitmap: the volume is cut into regions of {@code regionBytes}; before
 * a write touches a member, every region it covers is marked in the journal and the mark is
 * durable; a region already marked costs nothing more, so a write almost never waits for a sync.
 * A mark is cleared only lazily: once a member sync covered every write to its region and no write
 * began in the region for {@link #LINGER_NANOS} (md's bitmap waits its daemon's sleep, 5 s, the
 * same way): a region in use keeps its mark however often FLUSHes retire records, so that its
 * next write does not wait for the mark's sync again. Recovery resyncs every marked region, which
 * is what makes a power loss safe for writes that were answered but not yet synced on the members.
 *
 * <p>Marking ahead: a write that reaches the last part of its region marks the next region too,
 * without waiting for it, so a sequential writer finds each region durable by the time it gets
 * there.
 *
 * <p>The journal holds at most {@link JournalFormat#MAX_MARKS} marks; a write that needs a new mark
 * while that many are held waits (FIFO) until a retire cycle clears some, and asks for one.
 *
 * <p>{@code seq} here is whatever orders the caller's writes and its retirement: the journal's
 * sequence numbers on a primary, the front's on a standby. Thread-safe.
 */
public final class DirtyRegions {

    private static final Logger log = LoggerFactory.getLogger(DirtyRegions.class);

    /**
     * 16 MiB, chosen by benchmark (bench/fio-vs-nbdkit.sh, RAID-5 on one disk): 1 MiB sequential
     * writes ran at 0.81 of no journal with 4 MiB regions (a mark, and so a journal sync, every
     * four writes), 0.96 with 16 MiB and 0.94 with 64 MiB; random 4 KiB writes at 0.84 to 1.0
     * with all three. A crash resyncs every marked region: at most {@link JournalFormat#MAX_MARKS}
     * of them, 64 GiB, in practice those written in the last half minute; md's bitmap, which has
     * no such bound, defaults to 64 MiB chunks.
     */
    static final long DEFAULT_REGION_BYTES = 16L << 20;

    /** How long a region stays marked after its last write began, if nobody waits for room. */
    static final long LINGER_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

    /** Writes this large or larger mark the region after them ahead (a sequential writer's next). */
    private static final long MARK_AHEAD_MIN = 64 << 10;

    private final Journal journal;
    private final long regionBytes;
    private final long volumeBytes;
    private final int maxMarks;
    private final Runnable pressure;
    private final java.util.function.LongSupplier nanoClock;
    private final Map<Long, Region> regions = new HashMap<>();
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private final LongAdder writes = new LongAdder();
    private final LongAdder writesThatWaited = new LongAdder();
    private final LongAdder marksWritten = new LongAdder();
    /** A rule broken on purpose, to show the tests catch it ({@link Broken}); never set in the daemon. */
    private volatile Broken broken = Broken.NOTHING;

    /** The rules a test may break on purpose, to show that the power-loss test notices. */
    enum Broken {
        NOTHING,
        /** A write touches its members without waiting for its regions' marks to be durable. */
        WRITE_BEFORE_MARK_DURABLE,
        /**
         * A retire cycle retires records and clears marks (durably) without syncing the members
         * first, and without waiting a cycle: their writes may still be only in the page cache.
         */
        CLEAR_BEFORE_SYNC
    }

    /** Test hook: break {@code rule} from now on. */
    void breakOnPurpose(Broken rule) {
        this.broken = rule;
    }

    private static final class Region {
        CompletableFuture<Void> durable;
        int inFlight;
        long lastSeq;
        /** When the last write in the region began ({@link #nanoClock}). */
        long lastBeganNanos;
    }

    /** A write's hold on its regions: {@link #durable} once they are all marked durably. */
    public final class Hold {
        private final long first;
        private final long last;
        public final CompletableFuture<Void> durable;

        private Hold(long first, long last, CompletableFuture<Void> durable) {
            this.first = first;
            this.last = last;
            this.durable = durable;
        }

        /** The write is done with its regions (written, or failed); its seq orders it for cleaning. */
        public void end(long seq) {
            synchronized (DirtyRegions.this) {
                for (long r = first; r <= last; r++) {
                    Region x = regions.get(r);
                    x.inFlight--;
                    x.lastSeq = Math.max(x.lastSeq, seq);
                }
            }
        }
    }

    private record Waiting(long first, long last, long ahead, CompletableFuture<Void> durable) {
    }

    /**
     * @param pressure asks for a retire cycle now: a write waits for marks to clear
     */
    public DirtyRegions(Journal journal, long regionBytes, long volumeBytes, Runnable pressure) {
        this(journal, regionBytes, volumeBytes, JournalFormat.MAX_MARKS, pressure, System::nanoTime);
    }

    DirtyRegions(Journal journal, long regionBytes, long volumeBytes, int maxMarks, Runnable pressure,
                 java.util.function.LongSupplier nanoClock) {
        if (regionBytes <= 0 || Long.bitCount(regionBytes) != 1) {
            throw new IllegalArgumentException("a region must be a power of two bytes, not " + regionBytes);
        }
        this.journal = journal;
        this.regionBytes = regionBytes;
        this.volumeBytes = volumeBytes;
        this.maxMarks = maxMarks;
        this.pressure = pressure;
        this.nanoClock = nanoClock;
        adoptMarks();
    }

    /**
     * Takes over the marks the journal already holds, as if this controller had made them: a
     * promotion keeps the old primary's marks when their regions lack only a member sync
     * ({@link CommandRecovery.Survivors}), and they clear, as any other, once a member sync covered
     * them and they stayed idle for the linger time. At a start and on a standby the journal holds
     * none (recovery or {@code dropAll} cleared them). A mark of another region size stays for the
     * next recovery to resync: this controller cannot tell which of its writes it covers.
     */
    private void adoptMarks() {
        List<io.parityd.nvram.RecoveryPlan.Mark> marks;
        try {
            marks = journal.liveMarks();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("journal " + journal.path() + ": cannot read its marks", e);
        }
        long now = nanoClock.getAsLong();
        for (var m : marks) {
            if (!fits(m, regionBytes)) {
                log.warn("journal {}: keeping a mark of {} bytes at offset {} for the next recovery: this controller's"
                        + " regions are {} bytes", journal.path(), m.length(), m.offset(), regionBytes);
                continue;
            }
            Region x = new Region();
            x.durable = CompletableFuture.completedFuture(null);
            x.lastBeganNanos = now;
            regions.put(m.region(), x);
        }
        if (!regions.isEmpty()) {
            log.info("journal {}: kept {} dirty regions marked until the next member sync", journal.path(),
                    regions.size());
        }
    }

    /** Whether {@code mark} is one region of {@code regionBytes}, as this class makes them. */
    static boolean fits(io.parityd.nvram.RecoveryPlan.Mark mark, long regionBytes) {
        return mark.offset() == mark.region() * regionBytes && mark.length() <= regionBytes;
    }

    long regionBytes() {
        return regionBytes;
    }

    /**
     * Holds the regions of [offset, offset + length) for a write, marking those not marked yet.
     * The write may touch the members once {@link Hold#durable} completes, and must
     * {@link Hold#end} whatever happens.
     */
    public Hold begin(long offset, long length) {
        long first = offset / regionBytes;
        long last = (offset + Math.max(length, 1) - 1) / regionBytes;
        long end = offset + length;
        long ahead = length >= MARK_AHEAD_MIN && end < volumeBytes ? end / regionBytes : -1;
        writes.increment();
        CompletableFuture<Void> durable = new CompletableFuture<>();
        boolean full;
        synchronized (this) {
            full = !waiting.isEmpty() || newMarks(first, last) > maxMarks - regions.size();
            if (full) {
                waiting.add(new Waiting(first, last, ahead, durable));
            } else {
                take(first, last, ahead, durable, false);
            }
        }
        if (full) {
            writesThatWaited.increment();
            pressure.run();
        }
        if (broken == Broken.WRITE_BEFORE_MARK_DURABLE) {
            return new Hold(first, last, CompletableFuture.completedFuture(null));
        }
        return new Hold(first, last, durable);
    }

    /** Regions of [first, last] not marked yet. Under the lock. */
    private int newMarks(long first, long last) {
        int n = 0;
        for (long r = first; r <= last; r++) {
            if (!regions.containsKey(r)) {
                n++;
            }
        }
        return n;
    }

    /**
     * Marks what is missing of [first, last] (and {@code ahead} if room is left), then counts the
     * write in; a write that {@code waitedForRoom} was counted as waiting already.
     */
    private void take(long first, long last, long ahead, CompletableFuture<Void> result, boolean waitedForRoom) {
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        long now = nanoClock.getAsLong();
        // A write that makes a mark waits for that mark's sync, even when the sync is done before
        // we look: counting by isDone() alone would make the count race the journal's sync thread.
        boolean marksNew = false;
        for (long r = first; r <= last; r++) {
            Region x = regions.get(r);
            if (x == null) {
                x = mark(r);
                regions.put(r, x);
                marksNew = true;
            }
            x.inFlight++;
            x.lastBeganNanos = now;
            if (!x.durable.isDone() || x.durable.isCompletedExceptionally()) {
                pending.add(x.durable);
            }
        }
        if (ahead > last && !regions.containsKey(ahead) && regions.size() < maxMarks - 1) {
            Region x = mark(ahead);
            x.lastBeganNanos = now;
            regions.put(ahead, x);
        }
        boolean waits = marksNew || pending.stream().anyMatch(f -> !f.isDone());
        journal.countWrite(waits || waitedForRoom);
        if (waits && !waitedForRoom) {
            writesThatWaited.increment();
        }
        if (pending.isEmpty()) {
            result.complete(null);
        } else {
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).whenComplete((v, err) -> {
                if (err != null) {
                    result.completeExceptionally(err);
                } else {
                    result.complete(null);
                }
            });
        }
    }

    /** A new region's mark, written now; its future completes once it is durable. Under the lock. */
    private Region mark(long region) {
        Region x = new Region();
        long offset = region * regionBytes;
        x.durable = journal.mark(region, offset, Math.min(regionBytes, volumeBytes - offset));
        marksWritten.increment();
        return x;
    }

    /**
     * After a member sync that covered every write with a seq up to {@code syncedThrough}: a
     * region none of whose writes is in flight or newer, and in which no write began for
     * {@link #LINGER_NANOS}, loses its mark; while writes wait for room, every such region does at
     * once, however recently written. Then writes waiting for room get it.
     */
    public void clean(long syncedThrough) throws IOException {
        List<Runnable> admitted = new ArrayList<>();
        synchronized (this) {
            List<Long> clear = new ArrayList<>();
            long now = nanoClock.getAsLong();
            boolean urgent = !waiting.isEmpty() || broken == Broken.CLEAR_BEFORE_SYNC;
            for (Map.Entry<Long, Region> e : regions.entrySet()) {
                Region x = e.getValue();
                boolean quiet = x.inFlight == 0 && x.lastSeq <= syncedThrough && x.durable.isDone()
                        && !x.durable.isCompletedExceptionally();
                if (quiet && (urgent || now - x.lastBeganNanos >= LINGER_NANOS)) {
                    clear.add(e.getKey());
                }
            }
            for (long r : clear) {
                journal.unmark(r);
                regions.remove(r);
            }
            while (!waiting.isEmpty()) {
                Waiting w = waiting.peek();
                if (newMarks(w.first(), w.last()) > maxMarks - regions.size()) {
                    break;
                }
                waiting.poll();
                admitted.add(() -> { });
                take(w.first(), w.last(), w.ahead(), w.durable(), true);
            }
        }
        if (!admitted.isEmpty()) {
            log.debug("{} writes got the marks they waited for", admitted.size());
        }
    }

    /**
     * Clears every mark whose region has nothing in flight, for a clean stop or the end of a
     * recovery, once the members were synced. Returns how many are left (none when idle).
     */
    synchronized int clearIdle(long syncedThrough) throws IOException {
        List<Long> clear = new ArrayList<>();
        regions.forEach((r, x) -> {
            if (x.inFlight == 0 && x.lastSeq <= syncedThrough && x.durable.isDone()) {
                clear.add(r);
            }
        });
        for (long r : clear) {
            journal.unmark(r);
            regions.remove(r);
        }
        return regions.size();
    }

    /** Marks held now. */
    public synchronized int marked() {
        return regions.size();
    }

    /** Writes that asked for regions, since the start. */
    long writes() {
        return writes.sum();
    }

    /** Of those, how many had to wait for a mark's sync (or for room for marks). */
    long writesThatWaited() {
        return writesThatWaited.sum();
    }

    /** Marks written, since the start. */
    long marksWritten() {
        return marksWritten.sum();
    }
}
