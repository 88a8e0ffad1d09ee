package io.parityd.nvram;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Writes the journal's header and makes the file durable, for the group commit, for retiring and
 * for a clean close, one at a time; counts the syncs. The marks a header claims only rise, and
 * the durable mark is what a completed sync proved, never what the sync being made will prove:
 * a torn sync must not leave a header that vouches for records that are not there.
 */
final class HeaderWriter {

    /** How a failure here poisons the journal. */
    @FunctionalInterface
    interface Poison {
        IOException poison(String doing, Throwable cause);
    }

    /** Throws if the journal is poisoned or closed. */
    @FunctionalInterface
    interface UsableCheck {
        void check() throws IOException;
    }

    private final JournalStore store;
    private final JournalOptions options;
    private final LongSupplier appendedThrough;
    private final Poison poison;
    private final UsableCheck usable;

    private Header header;
    /** The highest sequence number a completed sync covered: what the next header may claim. */
    private long provenDurable;

    private final AtomicLong syncs = new AtomicLong();
    private final AtomicLong syncNanos = new AtomicLong();
    private volatile long lastSyncNanos;

    HeaderWriter(JournalStore store, JournalOptions options, Header header, LongSupplier appendedThrough,
                 Poison poison, UsableCheck usable) {
        this.store = store;
        this.options = options;
        this.header = header;
        this.provenDurable = header.durableThrough();
        this.appendedThrough = appendedThrough;
        this.poison = poison;
        this.usable = usable;
    }

    /** The group commit's sync: a header claiming what the previous sync proved, then the sync. */
    synchronized void sync(long through) throws IOException {
        usable.check();
        writeHeader(header.retiredThrough());
        force();
        provenDurable = Math.max(provenDurable, through);
    }

    /** A header with the retired mark at {@code retired}, made durable (unless the placement is non-volatile). */
    synchronized void writeAndSync(long retired) throws IOException {
        writeHeader(retired);
        if (!options.nonVolatile()) {
            force();
        }
    }

    /** Writes the header in {@code mode} and syncs (unless non-volatile). */
    synchronized void writeMode(JournalMode mode) throws IOException {
        header = header.withMode(mode);
        writeAndSync(header.retiredThrough());
    }

    long syncs() {
        return syncs.get();
    }

    long syncNanos() {
        return syncNanos.get();
    }

    long lastSyncNanos() {
        return lastSyncNanos;
    }

    private void writeHeader(long retired) throws IOException {
        // a non-volatile placement makes appends durable as they complete; otherwise only a sync does
        long durable = options.nonVolatile() ? appendedThrough.getAsLong() : provenDurable;
        try {
            // the marks only rise: a retire may have written a higher mark than its field shows yet
            Header next = header.withMarks(Math.max(retired, header.retiredThrough()),
                    Math.max(durable, header.durableThrough()));
            store.writeHeader(next);
            header = next;
        } catch (RuntimeException | InternalError e) {
            throw poison.poison("writing the header", e);
        }
    }

    private void force() throws IOException {
        long start = System.nanoTime();
        try {
            store.force();
            options.syncHook().synced(options.path());
        } catch (IOException | RuntimeException e) {
            throw poison.poison("syncing", e); // never retried: the kernel may have dropped the dirty pages
        }
        long took = System.nanoTime() - start;
        syncs.incrementAndGet();
        syncNanos.addAndGet(took);
        lastSyncNanos = took;
    }
}
