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
 * @param tls     whether STARTTLS is offered or required ({@link NbdTls#OFF} by default). The time
 *                limit covers the TLS handshake too.
 */
public record HandshakeConfig(Duration timeout, NbdTls tls) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    public HandshakeConfig {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(tls, "tls (NbdTls.OFF for none)");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the handshake timeout must be positive: " + timeout);
        }
    }

    /** Without TLS. */
    public HandshakeConfig(Duration timeout) {
        this(timeout, NbdTls.OFF);
    }

    public static HandshakeConfig defaults() {
        return new HandshakeConfig(DEFAULT_TIMEOUT);
    }

    public HandshakeConfig withTls(NbdTls tls) {
        return new HandshakeConfig(timeout, tls);
    }
}
