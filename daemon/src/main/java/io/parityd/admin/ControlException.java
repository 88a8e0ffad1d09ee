package io.parityd.admin;

/** An operator request the array refuses or cannot carry out; the message says why and what to do. */
public final class ControlException extends Exception {

    public ControlException(String message) {
        super(message, null, false, false);
    }
}
