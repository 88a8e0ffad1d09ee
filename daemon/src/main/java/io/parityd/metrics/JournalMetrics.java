package io.parityd.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalStats;

/**
 * The journal's syncs, read from its own counters (the status does not carry sync time):
 * <pre>
 * parityd_journal_syncs_total                  syncs (group commits and retirements)
 * parityd_journal_sync_seconds_total           time spent in them; rate(sum)/rate(count) is the mean sync latency
 * parityd_journal_last_sync_seconds            the last one
 * parityd_journal_appended_records_total       records written
 * parityd_journal_mode{mode}                   1 for what the journal holds: commands or data
 * parityd_journal_marks                        dirty-region marks held (commands)
 * parityd_journal_writes_total                 writes through the journal
 * parityd_journal_writes_waited_total          of those, the ones whose member writes waited for a journal sync
 * </pre>
 * Syncs per write: rate(parityd_journal_syncs_total) / rate(parityd_journal_writes_total).
 */
public final class JournalMetrics {

    private JournalMetrics() {
    }

    public static void bind(MeterRegistry registry, Journal journal) {
        FunctionCounter.builder("parityd.journal.syncs", journal, j -> stats(j).syncs())
                .description("syncs of the write journal (group commits and retirements)").register(registry);
        FunctionCounter.builder("parityd.journal.sync", journal, j -> stats(j).syncNanos() / 1e9).baseUnit("seconds")
                .description("time spent syncing the write journal").register(registry);
        Gauge.builder("parityd.journal.last.sync", journal, j -> j.stats().lastSyncNanos() / 1e9).baseUnit("seconds")
                .description("how long the last sync of the write journal took").register(registry);
        FunctionCounter.builder("parityd.journal.appended.records", journal, j -> stats(j).appended())
                .description("records written to the write journal").register(registry);
        for (io.parityd.nvram.JournalMode mode : io.parityd.nvram.JournalMode.values()) {
            Gauge.builder("parityd.journal.mode", journal, j -> j.mode() == mode ? 1 : 0).tag("mode", mode.word())
                    .description("1 for what the write journal holds: commands or data").register(registry);
        }
        Gauge.builder("parityd.journal.marks", journal, Journal::marks)
                .description("dirty-region marks the write journal holds (commands mode)").register(registry);
        FunctionCounter.builder("parityd.journal.writes", journal, j -> stats(j).writes())
                .description("writes that went through the write journal").register(registry);
        FunctionCounter.builder("parityd.journal.writes.waited", journal, j -> stats(j).writesWaited())
                .description("writes whose member writes waited for a journal sync first").register(registry);
    }

    private static JournalStats stats(Journal j) {
        return j.stats();
    }
}
