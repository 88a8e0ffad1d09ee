package io.parityd.nvram;

/**
 * What the journal holds for each unfinished write (DESIGN.md "NVRAM"), recorded in its header
 * ({@link JournalFormat}). The codes are part of the file format; never renumber them.
 */
public enum JournalMode {
    /**
     * Each write's data (the format's first mode, and what a header with no mode names): a write
     * is answered once journaled, and recovery redoes the journaled writes. Every byte reaches
     * the disk twice; it wins only on a journal faster than the members.
     */
    DATA(0, "data"),
    /**
     * The patent's Write Command Buffer (EP0551718, "(4b)"): each write's command (offset,
     * length, flags) and durable dirty-region marks, never its data. A write is answered once the
     * members have it; recovery resyncs the parity of the commanded stripes and marked regions,
     * and the client, which still holds every unanswered write, sends it again.
     */
    COMMANDS(1, "commands");

    private final int code;
    private final String word;

    JournalMode(int code, String word) {
        this.code = code;
        this.word = word;
    }

    /** The code stored in the header's flags. */
    public int code() {
        return code;
    }

    /** How the CLI, status and metrics name it. */
    public String word() {
        return word;
    }

    /** The mode a header code names, or null for a code this version does not know. */
    public static JournalMode fromCode(int code) {
        for (JournalMode m : values()) {
            if (m.code == code) {
                return m;
            }
        }
        return null;
    }

    /** The mode named {@code word} on a command line ("commands", "data"). */
    public static JournalMode fromWord(String word) {
        for (JournalMode m : values()) {
            if (m.word.equals(word)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown journal mode '" + word + "'");
    }

    /** Whether a record of {@code kind} carries the request's bytes in this mode. */
    public boolean carriesData(RecordKind kind) {
        return kind == RecordKind.PREIMAGE || (this == DATA && kind == RecordKind.WRITE);
    }
}
