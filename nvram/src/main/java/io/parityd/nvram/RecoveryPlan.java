package io.parityd.nvram;

import java.util.List;

/**
 * What a journal held when it was opened, decided before anything acts on it (DESIGN.md "NVRAM"):
 * the requests to redo in sequence order, and what was dropped. Immutable.
 *
 * @param openedClean    the clean-shutdown marker was there: nothing to redo
 * @param requests       complete, valid requests above the retired mark, by {@code firstSeq}
 * @param droppedRecords records past the durable mark that failed their checksum, belong to an
 *                       incomplete request, or are missing: never synced, so never promised by a
 *                       FLUSH or FUA, and dropped
 * @param retiredThrough every sequence number up to here was on the members when the journal stopped
 * @param durableThrough every sequence number up to here was synced; damage below it is refused
 * @param nextSeq        the sequence number the next append gets
 * @param notes          one line per thing recovery found worth telling an operator (dropped records, why)
 * @param mode           what the records hold: redo them (DATA), or resync their stripes (COMMANDS)
 * @param marks          the dirty-region marks it held (COMMANDS mode), by region
 */
public record RecoveryPlan(boolean openedClean, List<PendingRequest> requests, int droppedRecords,
                           long retiredThrough, long durableThrough, long nextSeq, List<String> notes,
                           JournalMode mode, List<Mark> marks) {

    public RecoveryPlan {
        requests = List.copyOf(requests);
        notes = List.copyOf(notes);
        marks = List.copyOf(marks);
    }

    /** A plan of a DATA-mode journal, which has no marks. */
    public RecoveryPlan(boolean openedClean, List<PendingRequest> requests, int droppedRecords,
                        long retiredThrough, long durableThrough, long nextSeq, List<String> notes) {
        this(openedClean, requests, droppedRecords, retiredThrough, durableThrough, nextSeq, notes, JournalMode.DATA,
                List.of());
    }

    /**
     * A durable dirty-region mark found at open: region {@code region} covers the volume's bytes
     * [offset, offset + length).
     */
    public record Mark(long region, long offset, long length) {
    }

    /** Whether nothing needs recovering: no request and no mark. */
    public boolean empty() {
        return requests.isEmpty() && marks.isEmpty();
    }

    /** The sequence number of the last piece of the last request to redo, or {@code retiredThrough} if none. */
    public long lastSeq() {
        return requests.isEmpty() ? retiredThrough : requests.get(requests.size() - 1).lastSeq();
    }
}
