package io.parityd.nvram;

/**
 * The journal cannot be opened as asked. The message names the file, what is wrong and what
 * the operator can do; {@link #problem()} lets callers decide without parsing it.
 */
public final class JournalException extends Exception {

    /** Why a journal was refused. */
    public enum Problem {
        /** The superblock names a journal but the file is absent or empty: acknowledged writes may be lost. */
        MISSING,
        /** Chronicle Map cannot open the file, a header is unreadable, or a durable record is missing or corrupt. */
        DAMAGED,
        /** The file is not a parityd journal (wrong magic). */
        NOT_A_JOURNAL,
        /** The file was written by a newer parityd (format version above ours). */
        NEWER_FORMAT,
        /** The journal belongs to another array (named in the message); refused even with discard. */
        FOREIGN,
        /** The journal is of this array but not the one its superblocks name. */
        MISMATCH,
        /** Another process holds the journal's lock. */
        LOCKED,
        /** The file cannot be read, written or created. */
        IO
    }

    private final Problem problem;

    public JournalException(Problem problem, String message) {
        super(message);
        this.problem = problem;
    }

    public JournalException(Problem problem, String message, Throwable cause) {
        super(message, cause);
        this.problem = problem;
    }

    public Problem problem() {
        return problem;
    }
}
