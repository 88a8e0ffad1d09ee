package io.parityd.admin;

/**
 * A request the admin socket could not carry out, seen from either end: the daemon is not there,
 * refuses the caller, speaks another protocol version, or refused the request itself. The message
 * is for the operator: what is wrong and what to do.
 */
public final class AdminException extends Exception {

    public AdminException(String message) {
        super(message, null, false, false);
    }

    public AdminException(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
