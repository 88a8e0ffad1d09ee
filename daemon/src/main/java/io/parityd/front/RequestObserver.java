package io.parityd.front;

import io.parityd.protocol.CommandType;
import io.parityd.protocol.NbdError;

/**
 * What the front tells whoever watches its traffic (the metrics): each request as it is answered,
 * each refusal, each connection. Called on the connections' event loops, so implementations must
 * be cheap and never block.
 */
public interface RequestObserver {

    /** Watches nothing. */
    RequestObserver NONE = new RequestObserver() {
    };

    /**
     * A request was handed to the controller.
     *
     * @param length the request's length field: bytes it reads, writes, trims or zeroes (0 for FLUSH)
     */
    default void started(CommandType command, long length) {
    }

    /**
     * A request handed to the controller was answered.
     *
     * @param bytes payload bytes it moved (READ and WRITE), else 0
     * @param nanos from when it was handed over until its reply was queued
     * @param error the errno it was answered with, or null
     */
    default void completed(CommandType command, long bytes, long nanos, NbdError error) {
    }

    /** A request refused before it reached the controller (validation, shutdown). */
    default void refused(CommandType command, NbdError error) {
    }

    /** A connection was refused because the server serves as many as it may ({@code --max-connections}). */
    default void connectionRefused() {
    }

    /** A client connected (past the handshake) or went away. */
    default void connected() {
    }

    default void disconnected() {
    }
}
