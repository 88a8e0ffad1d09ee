package io.parityd.controller;

import io.parityd.nvram.Journal;
import io.parityd.nvram.PendingRequest;
import io.parityd.nvram.RecordKind;
import io.parityd.nvram.RecoveryPlan;
import io.parityd.nvram.Ticket;
import io.parityd.nvram.WriteFlags;
import io.parityd.raid.Preimage;
import io.parityd.raid.RaidVolume;
import io.parityd.raid.ScrubReport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Redoes what a journal held after an unclean stop (DESIGN.md "NVRAM", issue 4), before the
 * volume serves:
 * <ol>
 *   <li>every stripe a pending request touches gets its redundancy recomputed from its data
 *       (a crash between a data chunk and its parity left them disagreeing; after this the stripe
 *       is consistent, holding old, new or mixed data). A stripe with a member down cannot be
 *       recomputed from its data alone: its parity is rebuilt from the surviving data and the
 *       newest {@link Preimage} of its lost chunks, if the request that saved it is pending
 *       ({@link #restorable});</li>
 *   <li>every pending request is redone in sequence order, by the volume's normal write path, so
 *       each range ends with the newest journaled content and parity to match;</li>
 *   <li>the members are synced and the records retired.</li>
 * </ol>
 * Redo is idempotent: a crash during replay leaves the records in place, and the next start does
 * the same again. The cost is proportional to the pending requests, never to the volume's size.
 *
 * <p>The plan was decided when the journal opened ({@link Journal#plan()}), so nothing here
 * decides what to trust.
 */
public final class JournalReplay {

    private static final Logger log = LoggerFactory.getLogger(JournalReplay.class);

    private JournalReplay() {
    }

    /**
     * Recovers what {@code journal} held at open, in the mode it was written in: a data journal's
     * writes are redone ({@link #replay}), a commands journal's stripes resynced
     * ({@link CommandRecovery#recover}).
     */
    public static RecoveryReport recover(Journal journal, RaidVolume volume) throws IOException {
        return journal.plan().mode() == io.parityd.nvram.JournalMode.COMMANDS
                ? CommandRecovery.recover(journal, volume) : replay(journal, volume);
    }

    /** Replays {@code journal}'s plan (what it held at open) onto {@code volume}; returns what it did. */
    public static RecoveryReport replay(Journal journal, RaidVolume volume) throws IOException {
        RecoveryPlan plan = journal.plan();
        plan.notes().forEach(note -> log.warn("journal {}: {}", journal.path(), note));
        return replay(journal, volume, plan.requests(), plan.droppedRecords(), () -> journal.retire(plan.lastSeq()));
    }

    /**
     * A promoted standby's redo (DESIGN.md "Failover and fencing"): every request its running
     * journal holds, which the old primary may have been writing when it died, in sequence order
     * (the front's order: a standby journals requests as they arrive).
     */
    public static RecoveryReport replayHeld(Journal journal, RaidVolume volume) throws IOException {
        List<PendingRequest> held = journal.live();
        return replay(journal, volume, held, 0, () -> {
            for (PendingRequest r : held) {
                journal.applied(new Ticket(r.firstSeq(), r.lastSeq(), 0));
            }
            if (!held.isEmpty()) {
                journal.retire(held.get(held.size() - 1).lastSeq());
            }
        });
    }

    /** What ends a replay once the members are synced: retiring what it redid. */
    @FunctionalInterface
    private interface Retire {
        void run() throws IOException;
    }

    private static RecoveryReport replay(Journal journal, RaidVolume volume, List<PendingRequest> pending,
                                         long dropped, Retire retire) throws IOException {
        long started = System.nanoTime();
        List<PendingRequest> requests = new ArrayList<>();
        List<PendingRequest> preimages = new ArrayList<>();
        for (PendingRequest r : pending) {
            (r.kind() == RecordKind.PREIMAGE ? preimages : requests).add(r);
        }
        long stripeBytes = volume.geometry().stripeDataSize();
        TreeSet<Long> stripes = new TreeSet<>();
        long records = 0;
        for (PendingRequest r : requests) {
            checkInside(r, volume.size(), journal);
            long first = r.offset() / stripeBytes;
            long last = (r.offset() + Math.max(r.length(), 1) - 1) / stripeBytes;
            for (long s = first; s <= last; s++) {
                stripes.add(s);
            }
            records += r.lastSeq() - r.firstSeq() + 1;
        }
        Map<Long, Preimage> restorable = restorable(journal, requests, preimages);
        long restored = 0;
        long unrestored = 0;
        for (Preimage p : restorable.values()) {
            if (volume.restoreParity(p)) {
                restored++;
            } else {
                unrestored++;
            }
        }
        long repaired = 0;
        long unchecked = 0;
        TreeSet<Long> toResync = new TreeSet<>(stripes);
        toResync.removeAll(restorable.keySet());
        for (long[] run : runs(toResync)) {
            ScrubReport report = volume.scrub(run[0], run[1], true, 0, (done, total) -> { });
            repaired += report.repaired();
            unchecked += report.unchecked();
        }
        for (PendingRequest r : requests) {
            redo(journal, volume, r);
        }
        volume.flush();
        retire.run();
        long millis = (System.nanoTime() - started) / 1_000_000;
        records += preimages.size();
        RecoveryReport report = new RecoveryReport(requests.size(), records, dropped, toResync.size(),
                repaired, restored, unchecked + unrestored, millis);
        if (unrestored > 0) {
            log.error("journal replay could not restore {} degraded stripes from their preimages (a member failed"
                    + " during the replay, or went missing after the crash): their redundancy may not match their data;"
                    + " run 'parityd scrub --repair' once the array is whole", unrestored);
        }
        if (unchecked > 0) {
            log.warn("journal replay: {} degraded stripes had no preimage to restore from. No write was under way on"
                    + " them at the crash, so their parity stands, unless a member went missing while the array was down"
                    + " (a start with --force): then run 'parityd scrub --repair' once the array is whole", unchecked);
        }
        return report;
    }

    private static void redo(Journal journal, RaidVolume volume, PendingRequest r) throws IOException {
        switch (r.kind()) {
            case WRITE -> {
                ByteBuffer data = journal.readData(r);
                volume.write(data, r.offset(), false);
            }
            case TRIM -> volume.trim(r.offset(), r.length(), false);
            case WRITE_ZEROES -> volume.writeZeroes(r.offset(), r.length(),
                    (r.flags() & WriteFlags.MAY_DEALLOCATE) != 0, false);
            default -> throw new IllegalStateException("unknown record kind " + r.kind());
        }
    }

    /**
     * The preimage to restore each degraded stripe from: per stripe, the newest one (highest seq),
     * and only if the request that saved it is still pending.
     *
     * <p>Why the newest: writes to one stripe run one at a time under its lock, and each saves a
     * preimage before touching a member, so a crash can interrupt only the stripe's newest write;
     * every earlier one finished and left the stripe consistent. Why only with its request
     * pending: restoring sets the lost chunks back to what they were before that write, and
     * redoing the request brings them forward again. A retired request finished and was synced,
     * so its stripe is consistent and its preimage stale.
     */
    static Map<Long, Preimage> restorable(Journal journal, List<PendingRequest> requests,
                                                  List<PendingRequest> preimages) throws IOException {
        Set<Long> pending = new HashSet<>();
        for (PendingRequest r : requests) {
            pending.add(ownerKey(r));
        }
        Map<Long, PendingRequest> newest = new HashMap<>();
        Map<Long, Preimage> decoded = new HashMap<>();
        for (PendingRequest r : preimages) {
            Preimage p;
            try {
                p = Preimage.decode(journal.readData(r));
            } catch (IllegalArgumentException e) {
                throw new IOException("journal " + journal.path() + ": record " + r.firstSeq() + " passed its checksum"
                        + " but is not a preimage (" + e.getMessage() + "); start with --discard-journal to drop it"
                        + " (forces a full parity resync)", e);
            }
            PendingRequest seen = newest.get(p.stripe());
            if (seen == null || seen.firstSeq() < r.firstSeq()) {
                newest.put(p.stripe(), r);
                decoded.put(p.stripe(), p);
            }
        }
        Map<Long, Preimage> restorable = new HashMap<>();
        newest.forEach((stripe, r) -> {
            if (pending.contains(r.aux())) {
                restorable.put(stripe, decoded.get(stripe));
            }
        });
        return restorable;
    }

    /**
     * How a preimage names the request it belongs to: the front's seq in HA mode (kept in the
     * request's aux, and the same on both controllers), else the request's journal seq.
     */
    private static long ownerKey(PendingRequest r) {
        return r.aux() > 0 ? r.aux() : r.firstSeq();
    }

    /** A record that passed its checksum but points outside the volume was not written by this array's parityd. */
    static void checkInside(PendingRequest r, long size, Journal journal) throws IOException {
        if (r.offset() < 0 || r.length() < 0 || r.offset() + r.length() > size) {
            throw new IOException("journal " + journal.path() + " holds a request at " + r.offset() + "+" + r.length()
                    + " (seq " + r.firstSeq() + ") outside the " + size + "-byte volume: it does not fit this array;"
                    + " start with --discard-journal to drop it (forces a full parity resync)");
        }
    }

    /** Consecutive stripe numbers as half-open [from, to) runs. */
    static List<long[]> runs(TreeSet<Long> stripes) {
        List<long[]> runs = new ArrayList<>();
        long from = -1;
        long to = -1;
        for (long s : stripes) {
            if (s != to) {
                if (from >= 0) {
                    runs.add(new long[] {from, to});
                }
                from = s;
            }
            to = s + 1;
        }
        if (from >= 0) {
            runs.add(new long[] {from, to});
        }
        return runs;
    }
}
