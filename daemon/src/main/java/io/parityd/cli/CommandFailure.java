package io.parityd.cli;

/**
 * A command that cannot do what was asked, with a message an operator can act on: what is
 * wrong and what to do. Printed as one line, exit status 1, no stack trace.
 */
final class CommandFailure extends Exception {

    CommandFailure(String message) {
        super(message, null, false, false);
    }

    CommandFailure(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
