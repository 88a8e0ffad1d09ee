package io.parityd.protocol;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the handshake phase, validated once here.
 *
 * @param timeout how long a connection may stay in the handshake, from accept until it chooses an
 *                export, before it is closed. Default {@link #DEFAULT_TIMEOUT}: qemu-nbd's default
 *                handshake limit (10 s, since the fix for CVE-2024-7409; {@code --handshake-limit}).
 *                Real clients finish in milliseconds; one that trickles a byte now and then would
 *                otherwise hold a connection, and a file descriptor, for ever. A total time, not an
 *                idle time, for that reason. Transmission has no such limit: an idle attached device
 *                is normal.
 */
public record HandshakeConfig(Duration timeout) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    public HandshakeConfig {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the handshake timeout must be positive: " + timeout);
        }
    }

    public static HandshakeConfig defaults() {
        return new HandshakeConfig(DEFAULT_TIMEOUT);
    }
}
