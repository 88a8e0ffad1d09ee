package io.parityd.nvram;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

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
 * <p>Futures complete on the thread that made them complete (the sync thread for
 * {@link #whenDurable}, a retiring thread for {@link #reserve}): chain work that blocks with an
 * {@code ...Async} stage.
 *
 * <p>Thread safety: every method may be called from any thread.
 */
public final class Journal implements Closeable {

    private final JournalOptions options;
    private final Path path;
    private final JournalStore store;
    private final FileChannel lock;
    private final UUID uuid;
    private final RecoveryPlan plan;
    private final long capacity;
    private final Room room;
    /** The most records the map was sized for, which admission holds it to. */
    private final long recordsCap;
    private final RequestLog log;
    private final SeqPrefix applied;
    private final GroupCommit commit;
    private final ThreadLocal<Appender> appenders = ThreadLocal.withInitial(Appender::new);

    private final HeaderWriter headers;

    private final Object retireLock = new Object();
    private volatile long retiredThrough;

    /** What the records hold; changes only by {@link #switchMode}, with nothing held. */
    private volatile JournalMode mode;
    /**
     * The marks in the map now (COMMANDS mode), by region, kept beside it so that
     * {@link #liveMarks} need not walk every key of the map (tens of milliseconds on a full one,
     * and a promotion waits for it).
     */
    private final java.util.concurrent.ConcurrentHashMap<Long, RecoveryPlan.Mark> markIndex =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final ThreadLocal<Appender> markWriters = ThreadLocal.withInitial(Appender::new);
    private final AtomicLong heldRecords = new AtomicLong();
    private final LongAdder writes = new LongAdder();
    private final LongAdder writesThatWaited = new LongAdder();
    private final LongAdder appendedRecords = new LongAdder();
    private volatile IOException failure;
    private volatile boolean closed;
    private volatile RuntimeException appendFault;

    private Journal(JournalOptions options, Opened opened) {
        this.options = options;
        this.path = options.path();
        this.store = opened.store();
        this.lock = opened.lock();
        Header header = opened.header();
        this.uuid = header.journalUuid();
        this.plan = opened.plan();
        this.capacity = header.capacity();
        this.retiredThrough = header.retiredThrough();
        this.mode = header.mode();
        plan.marks().forEach(m -> markIndex.put(m.region(), m));
        long last = plan.nextSeq() - 1;
        this.recordsCap = JournalStore.recordsCap(capacity, header.sizedForCommands());
        this.room = new Room(capacity, recordsCap);
        this.log = new RequestLog(plan.nextSeq());
        long records = 0;
        for (long[] r : opened.log()) {
            log.add(r[0], r[1], Math.toIntExact(r[2]), r[3] != 0);
            records += r[1] - r[0] + 1;
        }
        room.take(opened.heldBytes(), records);
        heldRecords.set(records);
        // numbers from before this open count as applied: redoing the plan is the caller's, then it retires
        this.applied = new SeqPrefix(last);
        this.headers = new HeaderWriter(store, options, header, this::appendedThroughNow, this::poison,
                this::checkUsable);
        this.commit = new GroupCommit(last, options.nonVolatile(), headers::sync);
    }

    /**
     * Opens (creating if needed) the journal at {@code options.path()} and builds its
     * {@link #plan()}. Refusals follow the table in {@link JournalFormat}.
     */
    public static Journal open(JournalOptions options) throws JournalException {
        return new Journal(options, JournalOpener.open(options));
    }

    /** The file. */
    public Path path() {
        return path;
    }

    /** This journal's identity; the superblocks record it while the array runs through it. */
    public UUID uuid() {
        return uuid;
    }

    /** What the file held at open; redo it before serving, then {@link #retire} through its last seq. */
    public RecoveryPlan plan() {
        return plan;
    }

    /** The most records the journal admits at once (its map was sized for them). */
    public long recordsCap() {
        return recordsCap;
    }

    /** What the records hold now. */
    public JournalMode mode() {
        return mode;
    }

    /**
     * Makes the journal hold {@code next}'s records from now on (a start in another mode, once
     * the plan was recovered and retired). Durable when it returns.
     *
     * @throws IllegalStateException if it still holds a record or a mark
     */
    public void switchMode(JournalMode next) throws IOException {
        checkUsable();
        if (next == mode) {
            return;
        }
        if (heldRecords.get() > 0 || marks() > 0) {
            throw new IllegalStateException("journal " + path + " still holds " + heldRecords.get() + " record(s) and "
                    + marks() + " mark(s) of " + mode.word() + " mode: recover and retire them before switching");
        }
        headers.writeMode(next);
        mode = next;
    }

    /**
     * Marks region {@code region} (the volume's bytes [offset, offset + length)) dirty: completes
     * once the mark is durable, after the next group commit's sync (at once on a non-volatile
     * placement). The caller marks a region once, and writes its members for a write only after
     * this completes (DESIGN.md "NVRAM"); it keeps the regions to {@link JournalFormat#MAX_MARKS}.
     */
    public CompletableFuture<Void> mark(long region, long offset, long length) {
        try {
            checkUsable();
            if (mode != JournalMode.COMMANDS) {
                throw new IllegalStateException("a " + mode.word() + " journal has no marks");
            }
            store.put(JournalFormat.markKey(region), markWriters.get().mark(region, offset, length));
            markIndex.put(region, new RecoveryPlan.Mark(region, offset, length));
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        } catch (RuntimeException | InternalError e) {
            return CompletableFuture.failedFuture(poison("writing the mark of region " + region, e));
        }
        return commit.afterNextSync();
    }

    /**
     * Removes region {@code region}'s mark, which a member sync showed clean. Not synced: a mark
     * that survives a crash only costs a resync of its region.
     */
    public void unmark(long region) throws IOException {
        checkUsable();
        try {
            store.remove(JournalFormat.markKey(region));
            markIndex.remove(region);
        } catch (RuntimeException | InternalError e) {
            throw poison("removing the mark of region " + region, e);
        }
    }

    /** Marks held now. */
    public long marks() {
        return markIndex.size();
    }

    /**
     * Counts a write that went through the journal, and whether its member writes had to wait for
     * a sync first (for the journal's cost per write: syncs per write, writes that waited).
     */
    public void countWrite(boolean waitedForSync) {
        writes.increment();
        if (waitedForSync) {
            writesThatWaited.increment();
        }
    }

    /**
     * The marks the journal holds now, in region order (a promoted standby resyncs their regions
     * or keeps them; a primary copies them to a joining standby): those read at open, plus those
     * written since, less those removed. Marks being written or removed meanwhile may or may not
     * be in it.
     */
    public List<RecoveryPlan.Mark> liveMarks() throws IOException {
        checkUsable();
        List<RecoveryPlan.Mark> out = new ArrayList<>(markIndex.values());
        out.sort(java.util.Comparator.comparingLong(RecoveryPlan.Mark::region));
        return out;
    }

    /** The data of a pending WRITE (or PREIMAGE) of the plan, pieces joined; read-only. */
    public ByteBuffer readData(PendingRequest request) throws IOException {
        checkUsable();
        if (!mode.carriesData(request.kind())) {
            return ByteBuffer.allocate(0).asReadOnlyBuffer();
        }
        ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(request.length()));
        for (long seq = request.firstSeq(); seq <= request.lastSeq(); seq++) {
            ByteBuffer raw = store.get(seq);
            RecordHeader.Checked c = raw == null ? null : RecordHeader.check(seq, raw, mode);
            if (c == null || !c.sound()) {
                throw new IOException("journal " + path + ": record " + seq + " of the request at " + request.firstSeq()
                        + (c == null ? " is gone (retired?)" : " is damaged: " + c.problem()));
            }
            data.put(raw.slice(JournalFormat.RECORD_HEADER_BYTES, c.header().dataLength()));
        }
        return data.flip().asReadOnlyBuffer();
    }

    /**
     * The requests the journal holds now, in sequence order, each read back from its first record
     * (what a standby copies when it joins its primary). Call it once every request of interest
     * was appended ({@link #whenDurable} of the last one); a request begun but not appended yet,
     * or retired while this runs, is left out. Its data is read with {@link #readData}, which
     * fails if the request retired meanwhile.
     */
    public List<PendingRequest> live() throws IOException {
        checkUsable();
        List<PendingRequest> out = new ArrayList<>();
        for (long[] r : log.held()) {
            ByteBuffer raw = store.get(r[0]);
            RecordHeader.Checked c = raw == null ? null : RecordHeader.check(r[0], raw, mode);
            if (c == null || !c.sound()) {
                continue; // not appended yet, or retired since the log was read
            }
            RecordHeader h = c.header();
            out.add(new PendingRequest(r[0], r[1], h.kind(), h.offset(), h.length(), h.flags(), h.aux()));
        }
        return out;
    }

    /** Completes when {@code bytes} of data fit; FIFO among waiters. Never fails except on close. */
    public CompletableFuture<Void> reserve(int bytes) {
        return room.reserve(bytes);
    }

    /**
     * Completes once every {@link #reserve} made before this call was granted (FIFO), without
     * taking room: a barrier behind which everything reserved earlier has been begun.
     */
    public CompletableFuture<Void> afterEarlierReservations() {
        return room.afterEarlierReservations();
    }

    /**
     * Takes room for {@code bytes} at once, past the capacity if need be, for a record that cannot
     * wait for room: one written while holding up retirement itself (a PREIMAGE saved in the
     * middle of its request, which must finish before anything after it can retire; waiting
     * there for room could wait forever). The caller bounds what it takes this way.
     */
    public void admitNow(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative reservation: " + bytes);
        }
        room.take(bytes, JournalFormat.piecesFor(bytes));
    }

    /** True while reservations wait for room. {@code listener} runs (on any thread) whenever that changes. */
    public boolean saturated() {
        return room.saturated();
    }

    /** The listener runs outside the journal's locks; it should read {@link #saturated()} for the new state. */
    public void onSaturationChange(Runnable listener) {
        room.onChange(listener);
    }

    /**
     * Gives a request of {@code dataBytes} its sequence numbers (one per piece; TRIM and
     * WRITE_ZEROES have one piece and no data). The caller must {@link #append} it next; until it
     * does, nothing after it becomes durable.
     */
    public Ticket begin(int dataBytes) {
        if (dataBytes < 0) {
            throw new IllegalArgumentException("negative request size: " + dataBytes);
        }
        int pieces = JournalFormat.piecesFor(dataBytes);
        long first = log.begin(pieces, dataBytes);
        return new Ticket(first, first + pieces - 1, dataBytes);
    }

    /**
     * Writes the ticket's records: {@code data} (its remaining bytes, exactly the ticket's
     * {@code bytes}; null for no data) split into pieces. Does not sync. Leaves {@code data}'s
     * position unchanged. WRITE and PREIMAGE carry data and their {@code length} is its size;
     * TRIM and WRITE_ZEROES carry none.
     *
     * @throws IOException if a record cannot be written; the journal is poisoned then
     */
    public void append(Ticket ticket, RecordKind kind, long offset, long length, int flags, long aux, ByteBuffer data)
            throws IOException {
        checkUsable();
        checkShape(ticket, kind, length, data);
        try {
            RuntimeException fault = appendFault;
            if (fault != null) {
                throw fault;
            }
            appenders.get().append(store, ticket, kind.code(), offset, length, flags, aux, data);
        } catch (RuntimeException | InternalError e) {
            throw poison("appending record(s) " + ticket.firstSeq() + ".." + ticket.lastSeq(), e);
        }
        appendedRecords.add(ticket.pieces());
        heldRecords.addAndGet(ticket.pieces());
        commit.appended(ticket.firstSeq(), ticket.lastSeq());
    }

    private void checkShape(Ticket ticket, RecordKind kind, long length, ByteBuffer data) {
        int carried = data == null ? 0 : data.remaining();
        if (carried != ticket.bytes()) {
            throw new IllegalArgumentException("the ticket is for " + ticket.bytes() + " bytes, the data has " + carried);
        }
        if (kind == RecordKind.MARK) {
            throw new IllegalArgumentException("marks are written with mark(), not appended");
        }
        if (mode.carriesData(kind) ? length != ticket.bytes() : ticket.bytes() != 0) {
            throw new IllegalArgumentException(kind + " of length " + length + " with " + ticket.bytes()
                    + " bytes of data in a " + mode.word() + " journal: a record that carries data carries exactly"
                    + " its length, the others none");
        }
    }

    /** Completes when every record up to {@code seq} is durable; fails if the journal is poisoned or closed. */
    public CompletableFuture<Void> whenDurable(long seq) {
        if (closed) {
            return CompletableFuture.failedFuture(new IOException("journal " + path + " closed"));
        }
        return commit.whenDurable(seq);
    }

    /** The ticket's request is on the members (written, maybe not synced). */
    public void applied(Ticket ticket) {
        applied.mark(ticket.firstSeq(), ticket.lastSeq());
    }

    /**
     * The highest S such that every request with a sequence number up to S was {@link #applied} (or retired).
     * Sequence numbers from before this open count as applied: the plan is the caller's to redo first.
     */
    public long appliedThrough() {
        return applied.through();
    }

    /**
     * Forgets every record up to {@code seq}, which the caller has made durable on the members:
     * makes the retired mark durable first, then removes the records and releases their room.
     * Blocking. No-op if already retired that far. A {@code seq} inside a request retires up to
     * the request before it.
     *
     * @throws IllegalArgumentException if {@code seq} is past {@link #appliedThrough()}
     */
    public void retire(long seq) throws IOException {
        checkUsable();
        if (seq > appliedThrough()) {
            throw new IllegalArgumentException("cannot retire through " + seq + ": requests are applied only through "
                    + appliedThrough());
        }
        RequestLog.Cut cut;
        synchronized (retireLock) {
            long from = retiredThrough;
            cut = log.peek(seq, from);
            if (cut.through() <= from) {
                return;
            }
            headers.writeAndSync(cut.through());
            try {
                for (long s = from + 1; s <= cut.through(); s++) {
                    store.remove(s);
                }
            } catch (RuntimeException | InternalError e) {
                throw poison("removing retired records", e);
            }
            log.pop(cut);
            retiredThrough = cut.through();
            heldRecords.addAndGet(-cut.records());
        }
        room.release(cut.bytes(), cut.records());
    }

    public JournalStats stats() {
        return new JournalStats(heldRecords.get(), room.usedBytes(), capacity, room.waiting(), headers.syncs(),
                headers.syncNanos(), headers.lastSyncNanos(), appendedRecords.sum(), retiredThrough, mode, marks(),
                writes.sum(), writesThatWaited.sum());
    }

    /**
     * Closes after a clean stop: every record must be retired. Writes the clean-shutdown marker
     * durably, so the next open is a normal one.
     *
     * @throws IllegalStateException if records remain
     */
    public void closeClean() throws IOException {
        if (closed) {
            return;
        }
        long held = heldRecords.get();
        if (held > 0 || marks() > 0) {
            throw new IllegalStateException("journal " + path + " still holds " + held + " record(s) (retired through "
                    + retiredThrough + ") and " + marks() + " mark(s): redo and retire them before a clean close");
        }
        checkUsable();
        commit.stop();
        headers.writeAndSync(retiredThrough);
        closed = true;
        IOException why = new IOException("journal " + path + " closed");
        commit.fail(why);
        room.close(why);
        Closing.closeAll(store::close, () -> JournalFiles.writeCleanMarker(path, uuid), lock::close);
    }

    /**
     * Closes without the clean marker, leaving the file as a crash would (tests; failed starts
     * after records were appended). Pending futures fail.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        commit.stop();
        IOException why = new IOException("journal " + path + " closed");
        commit.fail(why);
        room.close(why);
        Closing.closeAll(store::close, lock::close);
    }

    /** The group commit is made after the header writer, which asks it only once running. */
    private long appendedThroughNow() {
        return commit.appendedThrough();
    }

    /** Marks the journal failed: it no longer knows what it holds, so everything after fails. */
    private IOException poison(String doing, Throwable cause) {
        IOException io = new IOException("journal " + path + " failed " + doing + ": " + cause, cause);
        synchronized (this) {
            if (failure == null) {
                failure = io;
            }
        }
        commit.fail(failure);
        return io;
    }

    private void checkUsable() throws IOException {
        IOException f = failure;
        if (f != null) {
            throw new IOException(f.getMessage(), f);
        }
        if (closed) {
            throw new IOException("journal " + path + " closed");
        }
    }

    /** Test hook: every later append fails with {@code fault} while it is set. */
    void injectAppendFault(RuntimeException fault) {
        appendFault = fault;
    }

    /** Test hook: stores {@code bytes} as the value at {@code key}, bypassing every check. */
    void putRaw(long key, ByteBuffer bytes) {
        store.put(key, StoredValue.of(bytes.duplicate(), null));
    }

    /** Test hook: removes the value at {@code key}. */
    void removeRaw(long key) {
        store.remove(key);
    }

    /** Test hook: the stored bytes at {@code key}, or null. */
    ByteBuffer getRaw(long key) {
        return store.get(key);
    }
}
