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
 */
public record RecoveryPlan(boolean openedClean, List<PendingRequest> requests, int droppedRecords,
                           long retiredThrough, long durableThrough, long nextSeq, List<String> notes) {

    public RecoveryPlan {
        requests = List.copyOf(requests);
        notes = List.copyOf(notes);
    }

    /** The sequence number of the last piece of the last request to redo, or {@code retiredThrough} if none. */
    public long lastSeq() {
        return requests.isEmpty() ? retiredThrough : requests.get(requests.size() - 1).lastSeq();
    }
}
