package io.parityd.nvram;

import static io.parityd.nvram.JournalException.Problem.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a journal file by the decision table in {@link JournalFormat}: lock, clean marker, Chronicle,
 * header copies, identity, then {@link Recovery} and the actions of its plan. Holds the lock
 * until it hands everything over, and closes what it opened if it refuses.
 */
final class JournalOpener {

    private static final Logger LOG = LoggerFactory.getLogger(JournalOpener.class);

    private final JournalOptions options;
    private final Path path;
    private FileChannel lock;
    private JournalStore store;

    private JournalOpener(JournalOptions options) {
        this.options = options;
        this.path = options.path();
    }

    static Opened open(JournalOptions options) throws JournalException {
        JournalOpener opener = new JournalOpener(options);
        try {
            return opener.run();
        } catch (JournalException | RuntimeException e) {
            opener.abandon(e);
            throw e;
        } catch (IOException e) {
            JournalException je = new JournalException(IO, "journal " + options.path() + ": " + describe(e), e);
            opener.abandon(je);
            throw je;
        }
    }

    /** What went wrong, in words: NIO's exceptions carry only the path as their message. */
    static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file or directory: " + e.getMessage();
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied: " + e.getMessage();
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getFile() + ": " + f.getReason();
        }
        return e.getMessage();
    }

    private Opened run() throws JournalException, IOException {
        lock = JournalFiles.lock(path);
        UUID clean = JournalFiles.takeCleanMarker(path);
        if (!Files.exists(path) || Files.size(path) == 0) {
            return absent();
        }
        store = openStore(clean != null);
        if (store == null) {
            return fresh(UUID.randomUUID(), "--discard-journal dropped a file Chronicle Map could not open");
        }
        Header header = chooseHeader();
        if (header == null) {
            return fresh(UUID.randomUUID(), options.discard() ? "--discard-journal dropped a file with no valid header"
                    : "it had no header and no records (a first start that stopped early)");
        }
        if (clean != null && !clean.equals(header.journalUuid())) {
            // the marker is another journal's: this file may not have stopped cleanly
            store.close();
            store = null;
            store = openStore(false);
            header = store == null ? null : chooseHeader();
            if (header == null) {
                return fresh(UUID.randomUUID(), "--discard-journal dropped a file that could not be read");
            }
        }
        long records = records();
        checkIdentity(header);
        if (options.discard()) {
            return fresh(UUID.randomUUID(), "--discard-journal dropped its " + records + " record(s)");
        }
        if (options.expected() != null && !options.expected().equals(header.journalUuid())) {
            throw new JournalException(MISMATCH, "journal " + path + " is journal " + header.journalUuid()
                    + " of array " + header.arrayName() + ", but the superblocks say the array last ran with journal "
                    + options.expected() + ": point parityd at that file, or start with --discard-journal to drop"
                    + " its records and resync all parity");
        }
        if (header.journalUuid().equals(clean) && records == 0) {
            return cleanOpen(header);
        }
        if (options.expected() == null && records > 0) {
            return fresh(UUID.randomUUID(), "its " + records + " record(s) are stale: the superblocks say the"
                    + " array's last run did not use this journal or stopped cleanly");
        }
        return recover(header);
    }

    private Opened absent() throws JournalException, IOException {
        if (options.expected() != null && !options.discard()) {
            throw new JournalException(MISSING, "the superblocks say array " + options.arrayName() + " last ran with"
                    + " journal " + options.expected() + " at " + path + ", which is gone: writes acknowledged then"
                    + " may be missing from the members; restore the file, or start with --discard-journal to drop"
                    + " them and resync all parity");
        }
        if (options.expected() != null) {
            LOG.warn("journal {} (journal {}) is gone; --discard-journal: starting a new one", path, options.expected());
        }
        return fresh(UUID.randomUUID(), null);
    }

    private JournalStore openStore(boolean wasClean) throws JournalException {
        if (!looksLikeJournal()) {
            // never let Chronicle "recover" a file that is not ours: it would write to it
            throw new JournalException(NOT_A_JOURNAL, "file " + path + " is not a parityd journal: it lacks"
                    + " the journal map's header (a journal cut short looks the same). Check the path; if it is this"
                    + " array's journal, restore it, or move it away and start with --discard-journal");
        }
        try {
            return wasClean ? JournalStore.openClean(path, options.capacityBytes())
                    : JournalStore.recover(path, options.capacityBytes());
        } catch (IOException | RuntimeException | InternalError e) {
            if (options.discard()) {
                LOG.warn("journal {}: Chronicle Map cannot open it: {}", path, e.toString());
                return null;
            }
            throw new JournalException(DAMAGED, "journal " + path + " is damaged: Chronicle Map cannot open it (" + e
                    + "). Restore the file, or start with --discard-journal to drop its records and resync all parity", e);
        }
    }

    /** A journal's Chronicle header names our marshaller in its first bytes. */
    private boolean looksLikeJournal() {
        try (FileChannel c = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate((int) Math.min(c.size(), 64 << 10));
            c.read(b, 0);
            String text = new String(b.array(), 0, b.position(), StandardCharsets.ISO_8859_1);
            return text.contains(RecordMarshaller.class.getName());
        } catch (IOException e) {
            return false;
        }
    }

    /** The valid header copy with the highest generation; null if there is none and a new journal may replace it. */
    private Header chooseHeader() throws JournalException {
        Header.Decoded a = store.headerCopy(JournalFormat.HEADER_KEY_A);
        Header.Decoded b = store.headerCopy(JournalFormat.HEADER_KEY_B);
        Header best = null;
        for (Header.Decoded d : List.of(a, b)) {
            if (d.verdict() == Header.Verdict.VALID && (best == null || d.header().generation() > best.generation())) {
                best = d.header();
            }
        }
        if (best != null) {
            if (a.verdict() != b.verdict()) {
                LOG.warn("journal {}: one header copy is {}; using the other (generation {})", path,
                        a.verdict() == Header.Verdict.VALID ? b.verdict() : a.verdict(), best.generation());
            }
            return best;
        }
        if (a.verdict() == Header.Verdict.BAD_MAGIC || b.verdict() == Header.Verdict.BAD_MAGIC) {
            throw new JournalException(NOT_A_JOURNAL, "file " + path + " is not a parityd journal (its header has"
                    + " the wrong magic); check the path");
        }
        if (a.verdict() == Header.Verdict.NEWER_VERSION || b.verdict() == Header.Verdict.NEWER_VERSION) {
            throw new JournalException(NEWER_FORMAT, "journal " + path + " was written by a newer parityd (format "
                    + Math.max(a.version(), b.version()) + "); this one reads format " + JournalFormat.VERSION
                    + ": upgrade parityd");
        }
        boolean none = a.verdict() == Header.Verdict.ABSENT && b.verdict() == Header.Verdict.ABSENT;
        if (none && store.size() == 0 && options.expected() == null) {
            return null;
        }
        if (options.discard()) {
            return null;
        }
        throw new JournalException(DAMAGED, "journal " + path + " is damaged: " + (none ? "it has no header"
                : "both header copies fail their checksum") + ". Restore the file, or start with --discard-journal"
                + " to drop its records and resync all parity");
    }

    private long records() {
        long n = store.size();
        for (long key : new long[] {JournalFormat.HEADER_KEY_A, JournalFormat.HEADER_KEY_B}) {
            if (store.get(key) != null) {
                n--;
            }
        }
        return n;
    }

    private void checkIdentity(Header header) throws JournalException {
        if (!header.arrayUuid().equals(options.arrayUuid())) {
            throw new JournalException(FOREIGN, "journal " + path + " belongs to array " + header.arrayName() + " ("
                    + header.arrayUuid() + "), not to " + options.arrayName() + " (" + options.arrayUuid()
                    + "); refusing it, even with --discard-journal: point parityd at this array's journal");
        }
    }

    private Opened cleanOpen(Header header) throws IOException {
        if (header.capacity() != options.capacityBytes() || header.mode() != options.mode()) {
            LOG.info("journal {}: {} -> {}; recreating the empty file", path,
                    header.capacity() + " bytes of " + header.mode().word(),
                    options.capacityBytes() + " bytes of " + options.mode().word());
            return fresh(header.journalUuid(), null, true);
        }
        long next = Math.max(header.retiredThrough(), header.durableThrough()) + 1;
        RecoveryPlan plan = new RecoveryPlan(true, List.of(), 0, header.retiredThrough(), header.durableThrough(),
                next, List.of(), header.mode(), List.of());
        return handOver(header, plan, List.of(), 0);
    }

    private Opened recover(Header header) throws JournalException, IOException {
        if (header.capacity() != options.capacityBytes()) {
            LOG.warn("journal {}: it was sized for {} bytes, {} asked; the change takes effect after a clean stop",
                    path, header.capacity(), options.capacityBytes());
        }
        Recovery.Outcome outcome = Recovery.scan(store, header);
        Recovery.Actions act = outcome.actions();
        RecoveryPlan plan = outcome.plan();
        for (String note : plan.notes()) {
            LOG.warn("journal {}: {}", path, note);
        }
        act.delete().forEach(store::remove);
        for (long seq : act.voids()) {
            store.put(seq, Appender.voidRecord(seq));
        }
        forceUnlessNonVolatile();
        // the VOIDs are durable now, so the header may claim every number up to nextSeq - 1
        Header now = header.withMarks(act.retiredThrough(), plan.nextSeq() - 1);
        store.writeHeader(now);
        forceUnlessNonVolatile();
        LOG.info("journal {}: {} journal with {} request(s){} to recover, {} record(s) dropped, next seq {}", path,
                header.mode().word(), plan.requests().size(),
                header.mode() == JournalMode.COMMANDS ? " and " + plan.marks().size() + " dirty region(s)" : "",
                plan.droppedRecords(), plan.nextSeq());
        return handOver(now, plan, act.log(), act.heldBytes());
    }

    private Opened fresh(UUID journalUuid, String why) throws IOException {
        return fresh(journalUuid, why, false);
    }

    /** A new, empty journal file in place of whatever was there; {@code clean} if the old one closed cleanly. */
    private Opened fresh(UUID journalUuid, String why, boolean clean) throws IOException {
        if (why != null) {
            LOG.warn("journal {}: starting a new journal: {}", path, why);
        }
        if (store != null) {
            store.close();
            store = null;
        }
        Files.deleteIfExists(path);
        store = JournalStore.create(path, options.capacityBytes(), options.mode());
        JournalFiles.fsyncDirectory(path);
        Header h = new Header(options.arrayUuid(), journalUuid, System.currentTimeMillis(), 0, 0,
                options.capacityBytes(), 1, options.arrayName(), options.mode(), options.mode() == JournalMode.COMMANDS);
        store.writeHeader(h);
        h = h.withMarks(0, 0);
        store.writeHeader(h); // both copies valid from the start
        forceUnlessNonVolatile();
        RecoveryPlan plan = new RecoveryPlan(clean, List.of(), 0, 0, 0, 1, List.of(), options.mode(), List.of());
        return handOver(h, plan, List.of(), 0);
    }

    private void forceUnlessNonVolatile() throws IOException {
        if (!options.nonVolatile()) {
            store.force();
        }
    }

    private Opened handOver(Header header, RecoveryPlan plan, List<long[]> log, long heldBytes) {
        Opened o = new Opened(store, lock, header, plan, log, heldBytes);
        store = null;
        lock = null;
        return o;
    }

    private void abandon(Exception e) {
        try {
            if (store != null) {
                store.close();
            }
        } catch (IOException | RuntimeException closing) {
            e.addSuppressed(closing);
        }
        try {
            if (lock != null) {
                lock.close();
            }
        } catch (IOException closing) {
            e.addSuppressed(closing);
        }
    }
}
