package io.parityd.nvram;

/**
 * The flags of a write, one vocabulary from the NBD decoder on: the journal's records, the link's
 * requests and catch-up records and the controllers all carry these bits, so nothing translates
 * them between layers (issue 15, item 8). Bits this class does not name travel as they are.
 */
public final class WriteFlags {

    /** The client asked for FUA: the write is durable on the members before it is answered. */
    public static final int FUA = 1;

    /** A WRITE_ZEROES that may deallocate (NBD's NO_HOLE was not set). */
    public static final int MAY_DEALLOCATE = 1 << 1;

    /**
     * A WRITE_ZEROES that must fail rather than be slow (NBD's FAST_ZERO). Asked of the volume
     * before anything is journaled, so never in a journal record.
     */
    public static final int FAST_ONLY = 1 << 2;

    /** The bits a journal record keeps. */
    public static final int JOURNALED = FUA | MAY_DEALLOCATE;

    private WriteFlags() {
    }

    public static int of(boolean fua, boolean mayDeallocate, boolean fastOnly) {
        return (fua ? FUA : 0) | (mayDeallocate ? MAY_DEALLOCATE : 0) | (fastOnly ? FAST_ONLY : 0);
    }

    public static boolean fua(int flags) {
        return (flags & FUA) != 0;
    }

    public static boolean mayDeallocate(int flags) {
        return (flags & MAY_DEALLOCATE) != 0;
    }

    public static boolean fastOnly(int flags) {
        return (flags & FAST_ONLY) != 0;
    }
}
