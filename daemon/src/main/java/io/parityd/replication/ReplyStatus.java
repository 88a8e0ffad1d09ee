package io.parityd.replication;

import io.parityd.controller.RequestFailedException;
import io.parityd.link.LinkFormat;

/**
 * The status a controller's Reply carries, both ways: a {@link RequestFailedException.Reason}
 * by a stable code (so the front tells its NBD client the errno the reason maps to), or
 * {@link #NOT_PRIMARY}, which the front never passes on: it resends the request to the primary.
 */
public final class ReplyStatus {

    public static final int OK = LinkFormat.STATUS_OK;
    public static final int IO_ERROR = 1;
    public static final int NO_SPACE = 2;
    public static final int NOT_FAST = 3;
    public static final int SHUTTING_DOWN = 4;
    /** Sent by a controller that is not (or no longer) primary. */
    public static final int NOT_PRIMARY = 5;

    private ReplyStatus() {
    }

    public static int of(RequestFailedException.Reason reason) {
        return switch (reason) {
            case IO_ERROR -> IO_ERROR;
            case NO_SPACE -> NO_SPACE;
            case NOT_FAST -> NOT_FAST;
            case SHUTTING_DOWN -> SHUTTING_DOWN;
        };
    }

    /** The failure to complete a request with; IO_ERROR for a code this side does not know. */
    public static RequestFailedException failure(int status, String detail) {
        RequestFailedException.Reason reason = switch (status) {
            case NO_SPACE -> RequestFailedException.Reason.NO_SPACE;
            case NOT_FAST -> RequestFailedException.Reason.NOT_FAST;
            case SHUTTING_DOWN -> RequestFailedException.Reason.SHUTTING_DOWN;
            default -> RequestFailedException.Reason.IO_ERROR;
        };
        return new RequestFailedException(reason, detail);
    }
}
