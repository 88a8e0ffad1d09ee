package io.parityd.nvram;

/**
 * What a journal record asks to be redone. The codes are part of the file format
 * ({@link JournalFormat}); never renumber them.
 */
public enum RecordKind {
    /** A WRITE: the record carries the bytes. */
    WRITE(1),
    /** A TRIM: no bytes; redo trims the range again. */
    TRIM(2),
    /** A WRITE_ZEROES: no bytes; redo zeroes the range again ({@link JournalFormat#FLAG_MAY_DEALLOCATE} kept). */
    WRITE_ZEROES(3),
    /**
     * The image of a chunk of a stripe that had a member missing when a write began, saved so
     * that recovery can rebuild that stripe's redundancy without the missing member. Offset is
     * the chunk's volume-level position as the daemon defines it; the daemon gives it meaning.
     */
    PREIMAGE(4),
    /**
     * A durable dirty-region mark ({@link JournalMode#COMMANDS}): the members of the region at
     * [offset, offset + length) may hold writes that no member sync has covered, so recovery
     * resyncs its parity. Stored at a negative key of its own ({@link JournalFormat}), not in the
     * sequence of requests.
     */
    MARK(5);

    private final int code;

    RecordKind(int code) {
        this.code = code;
    }

    /** The code stored in the record header. */
    public int code() {
        return code;
    }

    /** The kind a stored code names; throws {@link IllegalArgumentException} for an unknown code. */
    public static RecordKind fromCode(int code) {
        for (RecordKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown journal record kind " + code);
    }
}
