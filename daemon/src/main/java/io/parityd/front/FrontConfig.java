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
 * @param maxConnections connections served at once; one more is told why and closed
 * @param readOnly      the export is read-only: NBD_FLAG_READ_ONLY, and every write-like command gets EPERM
 */
public record FrontConfig(int eventLoops, FrontLimits limits, Duration shutdownGrace, HandshakeConfig handshake,
                          int maxConnections, boolean readOnly) {

    /**
     * qemu's default since CVE-2024-7409 (nbd-server-start's max-connections): room for 25 clients
     * that each open nbdcopy's four connections, or the kernel client's {@code -C 4}, and few
     * enough that the descriptors (twice this, see {@link ConnectionLimit}) and per-connection
     * buffers stay small. The units' LimitNOFILE is sized from it.
     */
    public static final int DEFAULT_MAX_CONNECTIONS = 100;

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
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be at least 1: " + maxConnections);
        }
    }

    /** With the default handshake settings and connection limit. */
    public FrontConfig(int eventLoops, FrontLimits limits, Duration shutdownGrace) {
        this(eventLoops, limits, shutdownGrace, HandshakeConfig.defaults(), DEFAULT_MAX_CONNECTIONS, false);
    }

    public FrontConfig withHandshake(HandshakeConfig handshake) {
        return new FrontConfig(eventLoops, limits, shutdownGrace, handshake, maxConnections, readOnly);
    }

    public FrontConfig withMaxConnections(int maxConnections) {
        return new FrontConfig(eventLoops, limits, shutdownGrace, handshake, maxConnections, readOnly);
    }

    public FrontConfig withReadOnly(boolean readOnly) {
        return new FrontConfig(eventLoops, limits, shutdownGrace, handshake, maxConnections, readOnly);
    }
}
