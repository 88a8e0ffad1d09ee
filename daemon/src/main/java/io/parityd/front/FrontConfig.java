package io.parityd.front;

import io.parityd.protocol.HandshakeConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the NBD front, validated once when built.
 *
 * @param eventLoops    threads serving sockets; they only decode, dispatch and encode, so few are needed
 * @param limits        per-connection in-flight bounds (backpressure)
 * @param shutdownGrace how long a stop waits for in-flight requests before closing connections anyway
 * @param handshake     the handshake's settings: how long a client may take to choose an export
 */
public record FrontConfig(int eventLoops, FrontLimits limits, Duration shutdownGrace, HandshakeConfig handshake) {

    /**
     * Two event loops: decoding and encoding cost little next to disk I/O, and two let one
     * connection's large copy overlap another's. Thirty seconds of grace is what systemd gives
     * a unit before SIGKILL by default less a margin for flushing.
     */
    public static final FrontConfig DEFAULT = new FrontConfig(2, FrontLimits.DEFAULT, Duration.ofSeconds(25));

    public FrontConfig {
        if (eventLoops < 1) {
            throw new IllegalArgumentException("eventLoops must be at least 1: " + eventLoops);
        }
        if (shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("shutdownGrace must not be negative");
        }
        Objects.requireNonNull(handshake, "handshake");
    }

    /** With the default handshake settings. */
    public FrontConfig(int eventLoops, FrontLimits limits, Duration shutdownGrace) {
        this(eventLoops, limits, shutdownGrace, HandshakeConfig.defaults());
    }

    public FrontConfig withHandshake(HandshakeConfig handshake) {
        return new FrontConfig(eventLoops, limits, shutdownGrace, handshake);
    }
}
