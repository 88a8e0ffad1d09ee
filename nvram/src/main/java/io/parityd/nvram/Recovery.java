package io.parityd.nvram;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads what a journal file holds and decides, without changing anything, what it means: the
 * {@link RecoveryPlan}, and the {@link Actions} that make the file match it. The rules are the
 * lower rows of the table in {@link JournalFormat}.
 */
final class Recovery {

    /**
     * What to do to the file so that it holds exactly the plan. Every sequence number in
     * (retiredThrough, nextSeq) is then a record of a pending request or a VOID one.
     *
     * @param delete         keys to remove: retired or stale records, dropped ones below the first pending request
     * @param voids          sequence numbers to (over)write with VOID records
     * @param log            pending requests and VOID runs in sequence order: {first, last, bytes, void ? 1 : 0}
     * @param retiredThrough the retired mark once the dropped records at the front are gone
     */
    record Actions(List<Long> delete, List<Long> voids, List<long[]> log, long retiredThrough, long heldBytes) {
    }

    /** The plan and the actions that carry it out. */
    record Outcome(RecoveryPlan plan, Actions actions) {
    }

    private final JournalStore store;
    private final Header header;
    private final JournalMode mode;
    private final List<RecoveryPlan.Mark> marks = new ArrayList<>();
    private final long retired;
    private final long durable;
    private final TreeMap<Long, RecordHeader> sound = new TreeMap<>();
    private final TreeMap<Long, String> torn = new TreeMap<>();
    private final List<Long> delete = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private long maxSeen;

    private Recovery(JournalStore store, Header header) {
        this.store = store;
        this.header = header;
        this.mode = header.mode();
        this.retired = header.retiredThrough();
        this.durable = Math.max(header.durableThrough(), retired);
        this.maxSeen = durable;
    }

    static Outcome scan(JournalStore store, Header header) throws JournalException {
        return new Recovery(store, header).run();
    }

    private Outcome run() throws JournalException {
        readAll();
        requireDurableRecords();
        TreeMap<Long, PendingRequest> kept = new TreeMap<>();
        TreeSet<Long> existingVoids = new TreeSet<>();
        int dropped = group(kept, existingVoids) + countMissing(existingVoids);
        long retiredNow = kept.isEmpty() ? maxSeen : kept.firstKey() - 1;
        List<Long> voids = new ArrayList<>();
        List<long[]> log = new ArrayList<>();
        long heldBytes = 0;
        long s = retiredNow + 1;
        while (s <= maxSeen) {
            PendingRequest r = kept.get(s);
            if (r != null) {
                long bytes = mode.carriesData(r.kind()) ? r.length() : 0;
                log.add(new long[] {r.firstSeq(), r.lastSeq(), bytes, 0});
                heldBytes += bytes;
                s = r.lastSeq() + 1;
            } else {
                if (!existingVoids.contains(s)) {
                    voids.add(s);
                }
                log.add(new long[] {s, s, 0, 1});
                s++;
            }
        }
        for (Long key : store.keys()) {
            if (key > retired && key <= retiredNow) {
                delete.add(key);
            }
        }
        RecoveryPlan plan = new RecoveryPlan(false, new ArrayList<>(kept.values()), dropped, retired,
                header.durableThrough(), maxSeen + 1, notes, mode, marks);
        return new Outcome(plan, new Actions(delete, voids, log, retiredNow, heldBytes));
    }

    private void readAll() throws JournalException {
        for (Long key : store.keys()) {
            if (key == JournalFormat.HEADER_KEY_A || key == JournalFormat.HEADER_KEY_B) {
                continue;
            }
            if (key <= JournalFormat.MARK_KEY_BASE) {
                readMark(key);
                continue;
            }
            if (key < 0 || key <= retired) {
                delete.add(key);
                continue;
            }
            maxSeen = Math.max(maxSeen, key);
            ByteBuffer raw = store.get(key);
            if (raw == null) {
                continue; // removed under us: cannot happen while we hold the lock
            }
            RecordHeader.Checked c = RecordHeader.check(key, raw, mode);
            if (c.newerVersion()) {
                throw new JournalException(JournalException.Problem.NEWER_FORMAT, "journal " + store.path()
                        + ": record " + key + " was written by a newer parityd (" + c.problem()
                        + "); this one reads format " + JournalFormat.VERSION + ": upgrade parityd");
            }
            if (c.sound()) {
                sound.put(key, c.header());
            } else {
                torn.put(key, c.problem());
            }
        }
    }

    /**
     * A mark is kept if it is sound; one that is not was never synced (a mark is written once and
     * made durable before anything relies on it), so nothing relied on it: it is dropped and noted.
     * A DATA-mode journal has no marks: one there is dropped too.
     */
    private void readMark(long key) throws JournalException {
        ByteBuffer raw = store.get(key);
        if (raw == null) {
            return;
        }
        RecordHeader.Checked c = RecordHeader.check(key, raw, mode);
        if (c.newerVersion()) {
            throw new JournalException(JournalException.Problem.NEWER_FORMAT, "journal " + store.path() + ": mark "
                    + key + " was written by a newer parityd (" + c.problem() + "): upgrade parityd");
        }
        long region = JournalFormat.MARK_KEY_BASE - key;
        if (c.sound() && mode == JournalMode.COMMANDS) {
            marks.add(new RecoveryPlan.Mark(region, c.header().offset(), c.header().length()));
        } else {
            delete.add(key);
            notes.add("dropped the mark of region " + region + ": " + (c.sound() ? "a " + mode.word()
                    + " journal has no marks" : c.problem() + " (never synced, so nothing relied on it)"));
        }
    }

    /** Every record up to the durable mark was synced and may have been acknowledged. */
    private void requireDurableRecords() throws JournalException {
        for (long s = retired + 1; s <= durable; s++) {
            if (!sound.containsKey(s)) {
                String what = torn.containsKey(s) ? "is damaged (" + torn.get(s) + ")" : "is missing";
                throw damaged("record " + s + " " + what + ", but the journal had synced every record through "
                        + durable + ": a write acknowledged to a client may be lost");
            }
        }
    }

    /**
     * Records past the durable mark that are simply gone (their pages never reached the disk) and
     * belong to no request a surviving piece names (those are noted with their request): counted
     * with the dropped ones and noted by range, so an operator sees every loss.
     */
    private int countMissing(TreeSet<Long> existingVoids) {
        TreeSet<Long> named = new TreeSet<>();
        for (RecordHeader r : sound.values()) {
            for (long s = r.firstSeq(); s < r.firstSeq() + r.pieces(); s++) {
                named.add(s);
            }
        }
        int missing = 0;
        long from = -1;
        for (long s = durable + 1; s <= maxSeen + 1; s++) {
            boolean gone = s <= maxSeen && !sound.containsKey(s) && !torn.containsKey(s) && !existingVoids.contains(s)
                    && !named.contains(s);
            if (gone) {
                missing++;
                from = from < 0 ? s : from;
            } else if (from >= 0) {
                notes.add("records " + from + (s - 1 > from ? ".." + (s - 1) : "") + " are missing (past the durable"
                        + " mark " + durable + ": never synced)");
                from = -1;
            }
        }
        return missing;
    }

    /** Sorts the sound records into complete requests, VOIDs and dropped pieces; returns the dropped count. */
    private int group(TreeMap<Long, PendingRequest> kept, TreeSet<Long> voids) throws JournalException {
        int dropped = torn.size();
        torn.forEach((seq, why) -> notes.add("dropped record " + seq + ": " + why + " (past the durable mark "
                + durable + ", never synced)"));
        Map<Long, Boolean> used = new HashMap<>();
        for (RecordHeader r : sound.values()) {
            if (used.containsKey(r.seq())) {
                continue;
            }
            if (r.firstSeq() <= retired) {
                delete.add(r.seq()); // the rest of a request retired before the stop
            } else if (r.isVoid()) {
                voids.add(r.seq());
            } else {
                String missing = completeness(r);
                if (missing == null) {
                    kept.put(r.firstSeq(), new PendingRequest(r.firstSeq(), r.firstSeq() + r.pieces() - 1, r.kind(),
                            r.offset(), r.length(), r.flags(), r.aux()));
                    for (long s = r.firstSeq(); s < r.firstSeq() + r.pieces(); s++) {
                        used.put(s, Boolean.TRUE);
                    }
                } else {
                    dropped += dropIncomplete(r, missing, used);
                }
            }
        }
        return dropped;
    }

    /** Why the request that {@code r} is a piece of is not whole, or null if it is and {@code r} is its first piece. */
    private String completeness(RecordHeader r) {
        if (r.seq() != r.firstSeq()) {
            return "its first piece " + r.firstSeq() + " is " + (torn.containsKey(r.firstSeq()) ? "damaged" : "missing");
        }
        for (int i = 1; i < r.pieces(); i++) {
            RecordHeader p = sound.get(r.firstSeq() + i);
            if (p == null || !p.sameRequest(r)) {
                return "piece " + i + " (record " + (r.firstSeq() + i) + ") is "
                        + (p != null ? "of another request" : torn.containsKey(r.firstSeq() + i) ? "damaged" : "missing");
            }
        }
        return null;
    }

    private int dropIncomplete(RecordHeader r, String missing, Map<Long, Boolean> used) throws JournalException {
        long last = r.firstSeq() + r.pieces() - 1;
        if (last <= durable) {
            throw damaged("request at record " + r.firstSeq() + " is incomplete (" + missing
                    + "), but the journal had synced every record through " + durable);
        }
        int count = 0;
        for (long s = r.seq(); s <= last; s++) {
            RecordHeader p = sound.get(s);
            if (p != null && p.sameRequest(r) && !used.containsKey(s)) {
                used.put(s, Boolean.TRUE);
                count++;
            }
        }
        notes.add("dropped " + count + " record(s) of the " + r.kind() + " request at record " + r.firstSeq()
                + ": " + missing + " (past the durable mark " + durable + ": never synced)");
        return count;
    }

    private JournalException damaged(String what) {
        return new JournalException(JournalException.Problem.DAMAGED, "journal " + store.path() + " is damaged: "
                + what + ". Restore the file, or start with --discard-journal to drop its records and resync all parity");
    }

    /** Whether a record of {@code kind} carries bytes in a DATA-mode journal. */
    static boolean carriesData(RecordKind kind) {
        return JournalMode.DATA.carriesData(kind);
    }
}
