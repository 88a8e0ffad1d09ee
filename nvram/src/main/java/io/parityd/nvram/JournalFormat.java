package io.parityd.nvram;

import java.nio.charset.StandardCharsets;

/**
 * The journal's file format, in one place (DESIGN.md "NVRAM"). Every number here is part of the
 * format: change one and old files can no longer be read.
 *
 * <h2>The file</h2>
 * A Chronicle Map persisted to {@code <path>}, keyed by a {@code long}. Its value class is
 * {@code io.parityd.nvram.StoredValue} and its value marshaller {@code io.parityd.nvram.RecordMarshaller};
 * Chronicle stores both class names in the file, so neither may ever be renamed or moved. Each
 * value is raw bytes: the marshaller writes and reads them unchanged, and everything below is
 * checked by this module, not by Chronicle.
 * <pre>
 *   key  0  header copy A  ┐ written alternately: write n goes to key (n even ? 0 : -1), so a
 *   key -1  header copy B  ┘ torn header write leaves the other copy, one generation older
 *   key  s  record with sequence number s (s &gt;= 1)
 *   key -2-r  dirty-region mark of region r (r &gt;= 0; COMMANDS mode only)
 * </pre>
 * Beside it: {@code <path>.lock} (held with {@code FileChannel.tryLock} while open) and
 * {@code <path>.clean} (the journal UUID as text, present only after a clean close).
 *
 * <h2>Header copy ({@value #HEADER_BYTES} bytes, big-endian)</h2>
 * <pre>
 *   0                   8         10        12        16                        32
 *   ┌───────────────────┬─────────┬─────────┬─────────┬─────────────────────────┐
 *   │ magic "PARITYNV"  │ version │ flags   │ (zero)  │ array UUID (msb, lsb)   │
 *   │                   │         │ bits 0-1: mode (0 DATA, 1 COMMANDS)                 │
 *   ├───────────────────┴──┬──────┴─────────┴──┬──────┴──────┬──────────────────┤
 *   │ 32 journal UUID      │ 48 created (ms)   │ 56 retired  │ 64 durable       │
 *   ├──────────────────────┼───────────────────┼─────────────┴──────────────────┤
 *   │ 72 capacity (bytes)  │ 80 generation     │ 88 name length (u16)           │
 *   ├──────────────────────┴───────────────────┴────────────────────────────────┤
 *   │ 90 array name, UTF-8, at most {@value #NAME_BYTES} bytes, zero padded     │
 *   ├───────────────────────────────────────────────────────────────────────────┤
 *   │ 252 crc32c of bytes [0, 252)                                              │
 *   └───────────────────────────────────────────────────────────────────────────┘
 * </pre>
 * <ul>
 *   <li><b>retired</b>: every sequence number up to here is on the members; its records may be gone.</li>
 *   <li><b>durable</b>: every sequence number in (retired, durable] is in the file, intact, and was
 *       synced. The group commit writes the mark proven by the <em>previous</em> sync, never the one
 *       the current sync provides, so a torn sync cannot leave a header that claims records that
 *       are not there.</li>
 *   <li>The version is checked before the checksum, so a newer format is reported as such.</li>
 * </ul>
 *
 * <h2>Record ({@value #RECORD_HEADER_BYTES}-byte header, then the piece's data; big-endian)</h2>
 * <pre>
 *   0        4         5        6        8                16               24
 *   ┌────────┬─────────┬────────┬────────┬────────────────┬────────────────┐
 *   │ "PNVR" │ version │ kind   │ flags  │ seq            │ first seq      │
 *   ├────────┴──┬──────┴────────┴──┬─────┴────────────────┼────────────────┤
 *   │ 24 pieces │ 28 piece data    │ 32 request offset    │ 40 request     │
 *   │   (u32)   │    length (u32)  │                      │    length      │
 *   ├───────────┴──────────────────┼──────────┬───────────┴────────────────┤
 *   │ 48 aux                       │ 56 zero  │ 60 crc32c of [0,60) + data │
 *   └──────────────────────────────┴──────────┴────────────────────────────┘
 * </pre>
 * <b>Modes.</b> The header names what the records hold ({@link JournalMode}). In DATA mode a WRITE
 * record carries the request's bytes; in COMMANDS mode it carries none (data length 0, the
 * request's length in the length field): it only names the range a write under way may be
 * changing. PREIMAGE records carry their bytes in both; TRIM and WRITE_ZEROES in neither. A
 * journal holds one mode's records at a time: a start in another mode first finishes what the
 * file holds, then the header's mode changes (with no record held).
 *
 * <p><b>Marks</b> (COMMANDS mode) are records of kind MARK at key {@code -2 - r} for region
 * {@code r}: seq is the key, one piece, no data, offset and length the region's bytes on the
 * volume. A mark is durable (synced) before any member of its region is written for a write that
 * relies on it, and removed only after a member sync covered every write to the region. One
 * torn or missing at recovery was never synced, so no write relied on it: it is dropped.
 *
 * <p>A request of {@code n} data bytes has {@code max(1, ceil(n / MAX_PIECE_BYTES))} pieces with
 * consecutive sequence numbers; piece {@code i} carries bytes {@code [i * MAX_PIECE_BYTES, ...)}.
 * Kind codes are {@link RecordKind#code()}, plus {@value #KIND_VOID} (VOID): a sequence number an
 * earlier recovery found torn or missing above the durable mark, kept so the numbers stay
 * contiguous; it is never redone.
 *
 * <h2>Opening: the decision table</h2>
 * Checked top to bottom; the first row that matches decides.
 * <table>
 *   <caption>How {@code Journal.open} treats what it finds</caption>
 *   <tr><th>found</th><th>outcome</th></tr>
 *   <tr><td>{@code <path>.lock} held by another process or this JVM</td><td>LOCKED</td></tr>
 *   <tr><td>file absent or empty, superblock names a journal, no discard</td><td>MISSING</td></tr>
 *   <tr><td>file absent or empty otherwise</td><td>a new journal</td></tr>
 *   <tr><td>Chronicle cannot open it and it never was a journal</td><td>NOT_A_JOURNAL</td></tr>
 *   <tr><td>Chronicle cannot open it otherwise</td><td>DAMAGED; with discard a new journal</td></tr>
 *   <tr><td>a header copy has the wrong magic (and none is valid)</td><td>NOT_A_JOURNAL, even with discard</td></tr>
 *   <tr><td>a header copy has a newer version (and none is valid)</td><td>NEWER_FORMAT, even with discard</td></tr>
 *   <tr><td>no header copy passes its checksum, or none at all while records exist</td><td>DAMAGED; with discard a new journal</td></tr>
 *   <tr><td>no header and no records, superblock names no journal</td><td>a new journal (a first start that died early)</td></tr>
 *   <tr><td>the header's array UUID is not ours</td><td>FOREIGN, naming the other array; even with discard</td></tr>
 *   <tr><td>discard</td><td>a new journal; a warning counts the records dropped</td></tr>
 *   <tr><td>superblock names another journal UUID</td><td>MISMATCH</td></tr>
 *   <tr><td>clean marker with this journal's UUID, no records</td><td>clean open, nothing to redo
 *       (a different capacity recreates the file)</td></tr>
 *   <tr><td>records, but the superblock names no journal</td><td>stale: a warning, a new journal</td></tr>
 *   <tr><td>a record in (retired, durable] missing, torn or malformed</td><td>DAMAGED</td></tr>
 *   <tr><td>a record with a newer version</td><td>NEWER_FORMAT</td></tr>
 *   <tr><td>otherwise</td><td>recovery: records up to retired (or whose request began there) are
 *       deleted; above durable, complete valid requests are pending, torn or incomplete ones are
 *       dropped, counted and noted</td></tr>
 * </table>
 * The largest generation among the valid header copies wins.
 */
public final class JournalFormat {

    /** Most data one record carries; larger requests are split into pieces of this size. */
    public static final int MAX_PIECE_BYTES = 1 << 20;

    // Record flags are WriteFlags.JOURNALED's bits (FUA, MAY_DEALLOCATE), as the link carries them.

    /** The format version this code writes and the highest it reads. */
    public static final int VERSION = 1;

    static final byte[] HEADER_MAGIC = "PARITYNV".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER_BYTES = 256;
    static final int NAME_BYTES = 160;
    static final int H_VERSION = 8;
    static final int H_FLAGS = 10;
    static final int H_ARRAY_UUID = 16;
    static final int H_JOURNAL_UUID = 32;
    static final int H_CREATED = 48;
    static final int H_RETIRED = 56;
    static final int H_DURABLE = 64;
    static final int H_CAPACITY = 72;
    static final int H_GENERATION = 80;
    static final int H_NAME_LENGTH = 88;
    static final int H_NAME = 90;
    static final int H_CRC = 252;

    static final int RECORD_MAGIC = 0x504E5652; // "PNVR"
    static final int RECORD_HEADER_BYTES = 64;
    static final int R_VERSION = 4;
    static final int R_KIND = 5;
    static final int R_FLAGS = 6;
    static final int R_SEQ = 8;
    static final int R_FIRST_SEQ = 16;
    static final int R_PIECES = 24;
    static final int R_DATA_LENGTH = 28;
    static final int R_OFFSET = 32;
    static final int R_LENGTH = 40;
    static final int R_AUX = 48;
    static final int R_CRC = 60;

    /** Kind code of a VOID record (see the class comment); not a {@link RecordKind}. */
    static final int KIND_VOID = 0x7F;

    /**
     * The most dirty-region marks a journal holds (the map is sized for them): the daemon keeps
     * its regions to this many, waiting for marks to clear when it has.
     */
    public static final int MAX_MARKS = 4096;

    /** Header flags bits that hold the {@link JournalMode}. */
    static final int MODE_MASK = 0x3;

    /**
     * Header flag: the map file was created for a commands journal, sized for many small records
     * ({@link JournalStore#recordsCap}); a journal created for data and switched to commands
     * keeps the smaller number of records its map was sized for.
     */
    static final int FLAG_SIZED_FOR_COMMANDS = 0x4;

    /** The key of region {@code r}'s mark is {@code MARK_KEY_BASE - r}. */
    static final long MARK_KEY_BASE = -2;

    /** The map key of region {@code region}'s mark. */
    static long markKey(long region) {
        return MARK_KEY_BASE - region;
    }

    /** Map keys of the two header copies. */
    static final long HEADER_KEY_A = 0;
    static final long HEADER_KEY_B = -1;

    private JournalFormat() {
    }

    /** The pieces (records) a request of {@code dataBytes} takes. */
    static int piecesFor(long dataBytes) {
        return dataBytes <= 0 ? 1 : Math.toIntExact((dataBytes + MAX_PIECE_BYTES - 1) / MAX_PIECE_BYTES);
    }

    /** The data length of piece {@code index} of a request of {@code dataBytes}. */
    static int pieceLength(long dataBytes, int index) {
        return (int) Math.min(MAX_PIECE_BYTES, Math.max(0, dataBytes - (long) index * MAX_PIECE_BYTES));
    }

    /** The header copy key a header of {@code generation} goes to. */
    static long headerKey(long generation) {
        return (generation & 1) == 0 ? HEADER_KEY_A : HEADER_KEY_B;
    }
}
