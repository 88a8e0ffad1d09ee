package io.parityd.controller;

import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalMode;
import io.parityd.nvram.PendingRequest;
import io.parityd.nvram.RecordKind;
import io.parityd.nvram.RecoveryPlan;
import io.parityd.nvram.Ticket;
import io.parityd.raid.Preimage;
import io.parityd.raid.RaidVolume;
import io.parityd.raid.ScrubReport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovery from a {@link JournalMode#COMMANDS} journal (DESIGN.md "NVRAM", issue 15), at a start
 * after a crash and at a promotion: the patent's "redundancy consistency check for those locations
 * indicated by the WRITE command information".
 * <ol>
 *   <li>Degraded stripes a pending request was writing get their parity rebuilt from the surviving
 *       data and the newest preimage of their lost chunks ({@link JournalReplay#restorable}).</li>
 *   <li>Every other stripe a pending command names, and every stripe of a marked region, gets its
 *       redundancy recomputed from its data.</li>
 *   <li>The members are synced, the records retired and the marks cleared.</li>
 * </ol>
 * Nothing is redone: an answered write is on the members already (and its stripe consistent once
 * resynced), and an unanswered one is still held by its client, which sends it again (the HA
 * front does; after a crash of {@code serve}, the client reconnects). The cost follows the pending
 * commands and the marked regions, never the volume's size.
 */
public final class CommandRecovery {

    private static final Logger log = LoggerFactory.getLogger(CommandRecovery.class);

    private CommandRecovery() {
    }

    /** What the journal held when it opened (a start). */
    public static RecoveryReport recover(Journal journal, RaidVolume volume) throws IOException {
        RecoveryPlan plan = journal.plan();
        plan.notes().forEach(note -> log.warn("journal {}: {}", journal.path(), note));
        return resync(journal, volume, plan.requests(), plan.marks(), plan.droppedRecords(), 0, 0, true, () -> {
            journal.retire(plan.lastSeq());
            for (RecoveryPlan.Mark m : plan.marks()) {
                journal.unmark(m.region());
            }
        });
    }

    /**
     * What a standby's running journal holds (a promotion): every command it holds and every
     * region it marked, which the old primary may have been writing or not yet synced. With no
     * {@code survivors} (the old primary's page cache may be gone with it) every held command's
     * stripes and every marked region are resynced, and the marks cleared.
     */
    public static RecoveryReport recoverHeld(Journal journal, RaidVolume volume, List<RecoveryPlan.Mark> marks)
            throws IOException {
        return recoverHeld(journal, volume, marks, null);
    }

    /**
     * What the old primary left behind that outlives it: it ran on this host in this boot, so
     * every write it finished is in the members' page cache (or on the disks) however it died.
     * Then only the stripes of the held commands it had not {@code finished} (the front's seqs it
     * sent in {@code io.parityd.link.Finished}) may lie; the marked regions are consistent and
     * lack only a member sync, so their marks stay in the journal for the new primary to adopt
     * ({@link DirtyRegions}) and clear after its next member sync, and a power loss meanwhile
     * still resyncs them. Marks of another region size than {@code regionBytes} are resynced.
     */
    public record Survivors(Set<Long> finished, long regionBytes) {
        public Survivors {
            finished = Set.copyOf(finished);
        }

        boolean keeps(RecoveryPlan.Mark m) {
            return DirtyRegions.fits(m, regionBytes);
        }
    }

    /** As {@link #recoverHeld(Journal, RaidVolume, List)}, resyncing less when {@code survivors} says so. */
    public static RecoveryReport recoverHeld(Journal journal, RaidVolume volume, List<RecoveryPlan.Mark> marks,
                                             Survivors survivors) throws IOException {
        List<PendingRequest> held = journal.live();
        List<PendingRequest> suspect = held;
        List<RecoveryPlan.Mark> resynced = marks;
        if (survivors != null) {
            suspect = new ArrayList<>();
            for (PendingRequest r : held) {
                if (r.kind() == RecordKind.PREIMAGE || !survivors.finished().contains(r.aux())) {
                    suspect.add(r);
                }
            }
            resynced = marks.stream().filter(m -> !survivors.keeps(m)).toList();
        }
        List<RecoveryPlan.Mark> cleared = resynced;
        // The members need a sync only if marks go: a kept mark covers every stripe the resync
        // wrote (each held command's regions are marked), and the members' page cache holds them
        // as it holds the old primary's unsynced writes, so a power loss still resyncs them.
        boolean syncMembers = survivors == null || !resynced.isEmpty();
        return resync(journal, volume, suspect, resynced, 0, marks.size() - resynced.size(),
                held.size() - suspect.size(), syncMembers, () -> {
            for (PendingRequest r : held) {
                journal.applied(new Ticket(r.firstSeq(), r.lastSeq(), 0));
            }
            // Without a member sync the records stay (applied) for the new primary's first retire
            // cycle, whose member sync covers them; a power loss meanwhile resyncs them again.
            if (syncMembers && !held.isEmpty()) {
                journal.retire(held.get(held.size() - 1).lastSeq());
            }
            for (RecoveryPlan.Mark m : cleared) {
                journal.unmark(m.region());
            }
        });
    }

    @FunctionalInterface
    private interface Finish {
        void run() throws IOException;
    }

    private static RecoveryReport resync(Journal journal, RaidVolume volume, List<PendingRequest> pending,
                                         List<RecoveryPlan.Mark> marks, long dropped, int marksKept,
                                         int commandsFinished, boolean syncMembers, Finish finish)
            throws IOException {
        long started = System.nanoTime();
        List<PendingRequest> requests = new ArrayList<>();
        List<PendingRequest> preimages = new ArrayList<>();
        for (PendingRequest r : pending) {
            (r.kind() == RecordKind.PREIMAGE ? preimages : requests).add(r);
        }
        long stripeBytes = volume.geometry().stripeDataSize();
        TreeSet<Long> stripes = new TreeSet<>();
        for (PendingRequest r : requests) {
            JournalReplay.checkInside(r, volume.size(), journal);
            addStripes(stripes, r.offset(), r.length(), stripeBytes);
        }
        for (RecoveryPlan.Mark m : marks) {
            long length = Math.min(m.length(), Math.max(0, volume.size() - m.offset()));
            addStripes(stripes, m.offset(), length, stripeBytes);
        }
        Map<Long, Preimage> restorable = JournalReplay.restorable(journal, requests, preimages);
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
        for (long[] run : JournalReplay.runs(toResync)) {
            ScrubReport report = volume.scrub(run[0], run[1], true, 0, (done, total) -> { });
            repaired += report.repaired();
            unchecked += report.unchecked();
        }
        if (syncMembers) {
            volume.flush(); // what the resync wrote is durable before the records and marks naming it go
        }
        finish.run();
        long millis = (System.nanoTime() - started) / 1_000_000;
        if (unrestored > 0) {
            log.error("recovery could not restore {} degraded stripes from their preimages (a member failed during"
                    + " the recovery, or went missing after the crash): run 'parityd scrub --repair' once the array"
                    + " is whole", unrestored);
        }
        return new RecoveryReport(requests.size(), requests.size() + preimages.size(), dropped, toResync.size(),
                repaired, restored, unchecked + unrestored, millis, marks.size(), marksKept,
                commandsFinished, false);
    }

    private static void addStripes(TreeSet<Long> stripes, long offset, long length, long stripeBytes) {
        if (length <= 0 && offset < 0) {
            return;
        }
        long first = offset / stripeBytes;
        long last = (offset + Math.max(length, 1) - 1) / stripeBytes;
        for (long s = first; s <= last; s++) {
            stripes.add(s);
        }
    }
}
