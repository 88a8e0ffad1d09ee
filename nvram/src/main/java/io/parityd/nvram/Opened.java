package io.parityd.nvram;

import java.nio.channels.FileChannel;
import java.util.List;

/**
 * What {@link JournalOpener} hands the journal: the locked, open file, its current header, the
 * plan, and the requests and room it already holds.
 *
 * @param log       pending requests and VOID runs, {first, last, bytes, void ? 1 : 0}, in order
 * @param heldBytes data bytes those requests hold
 */
record Opened(JournalStore store, FileChannel lock, Header header, RecoveryPlan plan, List<long[]> log,
              long heldBytes) {
}
