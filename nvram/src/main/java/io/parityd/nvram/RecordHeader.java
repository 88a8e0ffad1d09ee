package io.parityd.nvram;

import static io.parityd.nvram.JournalFormat.*;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The {@value JournalFormat#RECORD_HEADER_BYTES}-byte header of one record as {@link JournalFormat}
 * lays it out: writing it for an append, and checking a stored record at recovery.
 *
 * @param kindCode a {@link RecordKind#code()} or {@link JournalFormat#KIND_VOID}
 */
record RecordHeader(int version, int kindCode, int flags, long seq, long firstSeq, int pieces, int dataLength,
                    long offset, long length, long aux) {

    /** What checking a stored record found; {@code header} is null unless the record is sound. */
    record Checked(RecordHeader header, String problem, boolean newerVersion) {
        boolean sound() {
            return header != null;
        }
    }

    boolean isVoid() {
        return kindCode == KIND_VOID;
    }

    RecordKind kind() {
        return RecordKind.fromCode(kindCode);
    }

    /**
     * Fills {@code head} (capacity at least 64, written from 0) with a record header whose checksum
     * covers {@code data}'s remaining bytes. Neither buffer's position moves.
     */
    static void write(ByteBuffer head, CRC32C crc, int kindCode, int flags, long seq, long firstSeq, int pieces,
                      long offset, long length, long aux, ByteBuffer data) {
        head.clear().limit(RECORD_HEADER_BYTES);
        head.putInt(0, RECORD_MAGIC);
        head.put(R_VERSION, (byte) VERSION);
        head.put(R_KIND, (byte) kindCode);
        head.putShort(R_FLAGS, (short) flags);
        head.putLong(R_SEQ, seq);
        head.putLong(R_FIRST_SEQ, firstSeq);
        head.putInt(R_PIECES, pieces);
        head.putInt(R_DATA_LENGTH, data == null ? 0 : data.remaining());
        head.putLong(R_OFFSET, offset);
        head.putLong(R_LENGTH, length);
        head.putLong(R_AUX, aux);
        head.putInt(56, 0);
        crc.reset();
        crc.update(head.slice(0, R_CRC));
        if (data != null) {
            int position = data.position();
            crc.update(data);
            data.position(position);
        }
        head.putInt(R_CRC, (int) crc.getValue());
    }

    /** Checks a stored value found at key {@code key}: magic, version, size, checksum, key; in DATA mode. */
    static Checked check(long key, ByteBuffer stored) {
        return check(key, stored, JournalMode.DATA);
    }

    /** Checks a stored value found at key {@code key} of a journal in {@code mode}. */
    static Checked check(long key, ByteBuffer stored, JournalMode mode) {
        ByteBuffer b = stored.slice();
        if (b.remaining() < RECORD_HEADER_BYTES) {
            return bad("torn: " + b.remaining() + " bytes, shorter than a record header");
        }
        if (b.getInt(0) != RECORD_MAGIC) {
            return bad("bad record magic 0x" + Integer.toHexString(b.getInt(0)));
        }
        int version = Byte.toUnsignedInt(b.get(R_VERSION));
        if (version > VERSION) {
            return new Checked(null, "record format " + version + " is newer than " + VERSION, true);
        }
        int dataLength = b.getInt(R_DATA_LENGTH);
        if (dataLength < 0 || dataLength > MAX_PIECE_BYTES || b.remaining() != RECORD_HEADER_BYTES + dataLength) {
            return bad("torn: " + b.remaining() + " bytes stored for a header that announces " + dataLength);
        }
        CRC32C crc = new CRC32C();
        crc.update(b.slice(0, R_CRC));
        crc.update(b.slice(RECORD_HEADER_BYTES, dataLength));
        if ((int) crc.getValue() != b.getInt(R_CRC)) {
            return bad("checksum mismatch");
        }
        RecordHeader h = new RecordHeader(version, Byte.toUnsignedInt(b.get(R_KIND)),
                Short.toUnsignedInt(b.getShort(R_FLAGS)), b.getLong(R_SEQ), b.getLong(R_FIRST_SEQ),
                b.getInt(R_PIECES), dataLength, b.getLong(R_OFFSET), b.getLong(R_LENGTH), b.getLong(R_AUX));
        String shape = h.shapeProblem(key, mode);
        return shape == null ? new Checked(h, null, false) : bad(shape);
    }

    /** Why this (checksummed) header cannot be what was stored at {@code key}, or null. */
    private String shapeProblem(long key, JournalMode mode) {
        if (seq != key) {
            return "stored at key " + key + " but names seq " + seq;
        }
        if (!isVoid() && !knownKind(kindCode)) {
            return "unknown kind " + kindCode;
        }
        boolean mark = kindCode == RecordKind.MARK.code();
        if (mark != (key <= MARK_KEY_BASE)) {
            return mark ? "a mark at key " + key + ", outside the marks' keys" : "a request record at a mark's key " + key;
        }
        if (mark) {
            return pieces == 1 && firstSeq == seq && dataLength == 0 && length > 0 && offset >= 0 ? null
                    : "a malformed mark (" + pieces + " pieces, " + dataLength + " bytes of data, length " + length + ")";
        }
        if (pieces < 1 || firstSeq > seq || seq - firstSeq >= pieces) {
            return "piece " + (seq - firstSeq) + " of " + pieces + " is out of range";
        }
        long dataBytes = carriesData(mode) ? length : 0;
        if (length < 0 || piecesFor(dataBytes) != pieces || pieceLength(dataBytes, (int) (seq - firstSeq)) != dataLength) {
            return "data length " + dataLength + " does not fit piece " + (seq - firstSeq) + " of a "
                    + length + "-byte request in " + pieces + " pieces";
        }
        return null;
    }

    /** Whether this record carries its request's bytes in {@code mode} (see {@link JournalMode#carriesData}). */
    boolean carriesData(JournalMode mode) {
        return kindCode == RecordKind.PREIMAGE.code() || (mode == JournalMode.DATA && kindCode == RecordKind.WRITE.code());
    }

    /** True if {@code other} is another piece of the same request. */
    boolean sameRequest(RecordHeader other) {
        return firstSeq == other.firstSeq && pieces == other.pieces && kindCode == other.kindCode
                && flags == other.flags && offset == other.offset && length == other.length && aux == other.aux;
    }

    private static boolean knownKind(int code) {
        for (RecordKind k : RecordKind.values()) {
            if (k.code() == code) {
                return true;
            }
        }
        return false;
    }

    private static Checked bad(String problem) {
        return new Checked(null, problem, false);
    }
}
