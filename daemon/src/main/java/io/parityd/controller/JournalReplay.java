package io.parityd.controller;

import io.parityd.nvram.Journal;
import io.parityd.nvram.PendingRequest;
import io.parityd.nvram.RecoveryPlan;
import io.parityd.raid.RaidVolume;
import io.parityd.raid.ScrubReport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Redoes what a journal held after an unclean stop (DESIGN.md "NVRAM", issue 4), before the
 * volume serves:
 * <ol>
 *   <li>every stripe a pending request touches gets its redundancy recomputed from its data
 *       (a crash between a data chunk and its parity left them disagreeing; after this the stripe
 *       is consistent, holding old, new or mixed data);</li>
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

    /** Replays {@code journal}'s plan onto {@code volume}; returns what it did. */
    public static RecoveryReport replay(Journal journal, RaidVolume volume) throws IOException {
        long started = System.nanoTime();
        RecoveryPlan plan = journal.plan();
        plan.notes().forEach(note -> log.warn("journal {}: {}", journal.path(), note));
        List<PendingRequest> requests = plan.requests();
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
        long repaired = 0;
        long unchecked = 0;
        for (long[] run : runs(stripes)) {
            ScrubReport report = volume.scrub(run[0], run[1], true, 0, (done, total) -> { });
            repaired += report.repaired();
            unchecked += report.unchecked();
        }
        for (PendingRequest r : requests) {
            redo(journal, volume, r);
        }
        volume.flush();
        journal.retire(plan.lastSeq());
        long millis = (System.nanoTime() - started) / 1_000_000;
        RecoveryReport report = new RecoveryReport(requests.size(), records, plan.droppedRecords(), stripes.size(),
                repaired, unchecked, millis);
        if (unchecked > 0) {
            log.error("journal replay could not resync {} stripes: too few members serve them, so their redundancy"
                    + " may not match their data; run 'parityd scrub --repair' once the array is whole", unchecked);
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
                    (r.flags() & io.parityd.nvram.JournalFormat.FLAG_MAY_DEALLOCATE) != 0, false);
            case PREIMAGE -> { } // only read by the stripe resync; nothing to redo
            default -> throw new IllegalStateException("unknown record kind " + r.kind());
        }
    }

    /** A record that passed its checksum but points outside the volume was not written by this array's parityd. */
    private static void checkInside(PendingRequest r, long size, Journal journal) throws IOException {
        if (r.offset() < 0 || r.length() < 0 || r.offset() + r.length() > size) {
            throw new IOException("journal " + journal.path() + " holds a request at " + r.offset() + "+" + r.length()
                    + " (seq " + r.firstSeq() + ") outside the " + size + "-byte volume: it does not fit this array;"
                    + " start with --discard-journal to drop it (forces a full parity resync)");
        }
    }

    /** Consecutive stripe numbers as half-open [from, to) runs. */
    private static List<long[]> runs(TreeSet<Long> stripes) {
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
