package io.parityd.nvram;

/**
 * The journal's file format, in one place (DESIGN.md "NVRAM"). To be filled in with the full
 * diagram: header copies, record layout, checksums, and the open decision table.
 */
public final class JournalFormat {

    /** Most data one record carries; larger requests are split into pieces of this size. */
    public static final int MAX_PIECE_BYTES = 1 << 20;

    /** Record flag: the client asked for FUA. */
    public static final int FLAG_FUA = 1;

    /** Record flag: a WRITE_ZEROES that may deallocate. */
    public static final int FLAG_MAY_DEALLOCATE = 1 << 1;

    private JournalFormat() {
    }
}
