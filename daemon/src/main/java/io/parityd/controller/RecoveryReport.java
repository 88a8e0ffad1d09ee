package io.parityd.controller;

/**
 * What replaying the journal at start did, for the log, {@code parityd status} and metrics.
 *
 * @param requestsReplayed  requests redone (each may have been several records)
 * @param recordsReplayed   journal records they spanned
 * @param recordsDropped    records past the last sync that failed their checksum, belonged to an
 *                          incomplete request or were missing: never promised by a FLUSH or FUA
 * @param stripesResynced   stripes whose redundancy was recomputed from their data
 * @param mismatchesRepaired of those, stripes whose parity was indeed wrong (a crash mid-stripe)
 * @param stripesRestored   degraded stripes whose parity was rebuilt from the surviving data and
 *                          the lost chunks' preimages (a crash while the array ran degraded)
 * @param stripesUnchecked  stripes that could be neither resynced nor restored (a member went
 *                          missing after the crash): their redundancy may be wrong
 * @param millis            wall time of the whole replay, including the member sync
 * @param regions           dirty regions whose stripes were resynced (a commands journal)
 * @param regionsKept       dirty regions a promotion kept marked instead of resyncing: the old
 *                          primary ran on this boot, so they lack only a member sync
 * @param commandsFinished  held commands a promotion did not resync: the old primary had
 *                          finished them, and its writes outlive it in the page cache
 * @param redone            whether the requests were redone (a data journal) or only their
 *                          stripes resynced (a commands journal: their clients send them again)
 */
public record RecoveryReport(long requestsReplayed, long recordsReplayed, long recordsDropped, long stripesResynced,
                             long mismatchesRepaired, long stripesRestored, long stripesUnchecked, long millis,
                             long regions, long regionsKept, long commandsFinished, boolean redone) {

    /** A start with nothing to redo. */
    public static final RecoveryReport NOTHING = new RecoveryReport(0, 0, 0, 0, 0, 0, 0, 0);

    /** A data journal's replay. */
    public RecoveryReport(long requestsReplayed, long recordsReplayed, long recordsDropped, long stripesResynced,
                          long mismatchesRepaired, long stripesRestored, long stripesUnchecked, long millis) {
        this(requestsReplayed, recordsReplayed, recordsDropped, stripesResynced, mismatchesRepaired, stripesRestored,
                stripesUnchecked, millis, 0, 0, 0, true);
    }

    /** One line for the log. */
    public String summary() {
        if (!redone) {
            return requestsReplayed + " unfinished commands" + (commandsFinished > 0 ? " (" + commandsFinished
                    + " more finished on the members)" : "") + " and " + regions + " dirty regions" + (regionsKept > 0
                    ? " (" + regionsKept + " kept marked until the next member sync)" : "") + ": " + stripesResynced
                    + " stripes resynced (" + mismatchesRepaired + " had wrong parity" + (stripesRestored > 0 ? ", "
                    + stripesRestored + " degraded ones restored from preimages" : "") + (stripesUnchecked > 0 ? ", "
                    + stripesUnchecked + " could not be checked" : "") + "), " + recordsDropped
                    + " unsynced records dropped, nothing redone, in " + millis + " ms";
        }
        return requestsReplayed + " requests (" + recordsReplayed + " records) replayed, " + recordsDropped
                + " unacknowledged records dropped, " + stripesResynced + " stripes resynced (" + mismatchesRepaired
                + " had wrong parity" + (stripesRestored > 0 ? ", " + stripesRestored + " degraded ones restored from"
                + " preimages" : "") + (stripesUnchecked > 0 ? ", " + stripesUnchecked + " could not be checked" : "")
                + ") in " + millis + " ms";
    }
}
