package io.parityd.protocol;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the handshake phase, validated once here.
 *
 * @param idleTimeout how long a connection may stay in the handshake without sending a byte
 *                    before it is closed. Default {@link #DEFAULT_IDLE_TIMEOUT}: long enough for
 *                    a human at {@code nbdsh} between two options, short enough that a scanner or
 *                    a stuck client does not hold a connection forever. Transmission has no such
 *                    limit: an idle attached device is normal.
 */
public record HandshakeConfig(Duration idleTimeout) {

    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

    public HandshakeConfig {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("handshake idle timeout must be positive: " + idleTimeout);
        }
    }

    public static HandshakeConfig defaults() {
        return new HandshakeConfig(DEFAULT_IDLE_TIMEOUT);
    }
}
