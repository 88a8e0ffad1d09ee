package io.parityd.nvram;

/**
 * A snapshot of a journal's counters, for status and metrics.
 *
 * @param records        records held (not yet retired)
 * @param usedBytes      data bytes held, reserved ones included
 * @param capacityBytes  the bound on data bytes
 * @param waiting        reservations waiting for room (backpressure in effect when above 0)
 * @param syncs          completed syncs since open
 * @param syncNanos      total time spent in them
 * @param lastSyncNanos  the latest one's duration
 * @param appended       records appended since open
 * @param retiredThrough the retired mark
 * @param mode           what the records hold
 * @param marks          dirty-region marks held (COMMANDS mode)
 * @param writes         writes that went through the journal since open
 * @param writesWaited   of those, how many had their member writes wait for a sync first
 */
public record JournalStats(long records, long usedBytes, long capacityBytes, int waiting, long syncs,
                           long syncNanos, long lastSyncNanos, long appended, long retiredThrough, JournalMode mode,
                           long marks, long writes, long writesWaited) {
}
