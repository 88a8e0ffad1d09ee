package io.parityd.nvram;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * The write journal (DESIGN.md "NVRAM"): a Chronicle Map persisted to a file, one record per
 * piece (at most {@link JournalFormat#MAX_PIECE_BYTES} of data) of every unfinished request,
 * keyed by sequence number. The format is {@link JournalFormat}.
 *
 * <p><b>Life of a request.</b>
 * <ol>
 *   <li>{@link #reserve(int)} — room for its data; the future waits (FIFO) while the journal is
 *       full, which is how a full journal becomes backpressure rather than an error. A request
 *       larger than the whole capacity is let in once the journal is empty.</li>
 *   <li>{@link #begin} — its sequence numbers, one per piece; cheap, never blocks, so a caller can
 *       take them under its own lock and order other things the same way.</li>
 *   <li>{@link #append} — writes the records (blocking: call it off event loops). A failed append
 *       poisons the journal: every later call fails, since the journal no longer knows what it
 *       holds.</li>
 *   <li>{@link #whenDurable(long)} — completes once the records are durable: after the group
 *       commit's sync that covered them, or at once when the placement is non-volatile. Only then
 *       may a member be modified for the request.</li>
 *   <li>{@link #applied(Ticket)} — the caller has written the request to the members (not
 *       necessarily synced).</li>
 *   <li>{@link #retire(long)} — after the caller synced the members, records up to a sequence
 *       number leave and their room is released.</li>
 * </ol>
 *
 * <p><b>Group commit.</b> One thread syncs the file: whenever appends have completed since the
 * last sync it syncs at once, covering every append completed by then (LMAX end-of-batch: the
 * batch is whatever arrived while the previous sync ran, never a timer).
 *
 * <p>Thread safety: every method may be called from any thread.
 */
public final class Journal implements Closeable {

    private Journal() {
    }

    /**
     * Opens (creating if needed) the journal at {@code options.path()} and builds its
     * {@link #plan()}. Refusals follow the table in {@link JournalFormat}.
     */
    public static Journal open(JournalOptions options) throws JournalException {
        throw new UnsupportedOperationException("not yet");
    }

    /** The file. */
    public Path path() {
        throw new UnsupportedOperationException("not yet");
    }

    /** This journal's identity; the superblocks record it while the array runs through it. */
    public UUID uuid() {
        throw new UnsupportedOperationException("not yet");
    }

    /** What the file held at open; redo it before serving, then {@link #retire} through its last seq. */
    public RecoveryPlan plan() {
        throw new UnsupportedOperationException("not yet");
    }

    /** The data of a pending WRITE (or PREIMAGE) of the plan, pieces joined; read-only. */
    public ByteBuffer readData(PendingRequest request) throws IOException {
        throw new UnsupportedOperationException("not yet");
    }

    /** Completes when {@code bytes} of data fit; FIFO among waiters. Never fails except on close. */
    public CompletableFuture<Void> reserve(int bytes) {
        throw new UnsupportedOperationException("not yet");
    }

    /** True while reservations wait for room. {@code listener} runs (on any thread) whenever that changes. */
    public boolean saturated() {
        throw new UnsupportedOperationException("not yet");
    }

    public void onSaturationChange(Runnable listener) {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * Gives a request of {@code dataBytes} its sequence numbers (one per piece; TRIM and
     * WRITE_ZEROES have one piece and no data). The caller must {@link #append} it next; until it
     * does, nothing after it becomes durable.
     */
    public Ticket begin(int dataBytes) {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * Writes the ticket's records: {@code data} (its remaining bytes, exactly the ticket's
     * {@code bytes}; null for no data) split into pieces. Does not sync. Leaves {@code data}'s
     * position unchanged.
     *
     * @throws IOException if a record cannot be written; the journal is poisoned then
     */
    public void append(Ticket ticket, RecordKind kind, long offset, long length, int flags, long aux, ByteBuffer data)
            throws IOException {
        throw new UnsupportedOperationException("not yet");
    }

    /** Completes when every record up to {@code seq} is durable; fails if the journal is poisoned or closed. */
    public CompletableFuture<Void> whenDurable(long seq) {
        throw new UnsupportedOperationException("not yet");
    }

    /** The ticket's request is on the members (written, maybe not synced). */
    public void applied(Ticket ticket) {
        throw new UnsupportedOperationException("not yet");
    }

    /** The highest S such that every request with a sequence number up to S was {@link #applied} (or retired). */
    public long appliedThrough() {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * Forgets every record up to {@code seq}, which the caller has made durable on the members:
     * makes the retired mark durable first, then removes the records and releases their room.
     * Blocking. No-op if already retired that far.
     */
    public void retire(long seq) throws IOException {
        throw new UnsupportedOperationException("not yet");
    }

    public JournalStats stats() {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * Closes after a clean stop: every record must be retired. Writes the clean-shutdown marker
     * durably, so the next open is a normal one.
     *
     * @throws IllegalStateException if records remain
     */
    public void closeClean() throws IOException {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * Closes without the clean marker, leaving the file as a crash would (tests; failed starts
     * after records were appended). Pending futures fail.
     */
    @Override
    public void close() throws IOException {
        throw new UnsupportedOperationException("not yet");
    }
}
