package io.parityd.controller;

/**
 * A request the controller could not carry out, with the reason the client should hear. The
 * cause (an {@link java.io.IOException} from a member, say) has already been logged where it
 * happened; this exception carries it on for whoever wants more detail.
 */
public final class RequestFailedException extends RuntimeException {

    /** What went wrong, in terms a block device client understands. */
    public enum Reason {
        /** A member or the volume failed the I/O. */
        IO_ERROR,
        /** The backing storage ran out of space (ENOSPC, EDQUOT, EFBIG below us). */
        NO_SPACE,
        /** A fast zero was asked for and zeroing this range would not be fast. */
        NOT_FAST,
        /** The controller is closing and takes no new requests. */
        SHUTTING_DOWN
    }

    private final Reason reason;

    public RequestFailedException(Reason reason, String message, Throwable cause) {
        super(message, cause, false, false);
        this.reason = reason;
    }

    public RequestFailedException(Reason reason, String message) {
        this(reason, message, null);
    }

    public Reason reason() {
        return reason;
    }
}
