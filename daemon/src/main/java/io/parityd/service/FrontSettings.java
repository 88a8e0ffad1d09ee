package io.parityd.service;

import io.parityd.front.FrontConfig;
import io.parityd.front.ListenAddress;
import io.parityd.link.LinkSecret;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * The front process of an HA pair, as {@code parityd front} was told to run it; validated once.
 *
 * @param listen       where NBD clients connect
 * @param controllers  the pair: id → address, in the order given
 * @param secret       the shared secret every link proves
 * @param lease        how long a controller may be silent before the front gives up on it; the
 *                     primary also stops writing when it has not heard from the front for as long
 * @param fenceCommand run to fence a controller on another host; empty for none
 * @param arrayUuid    the array this front serves, or null to take the controllers' word for it
 * @param front        NBD limits
 * @param adminSocket  where {@code parityd status} reaches it; null for the default
 * @param metrics      where Prometheus scrapes {@code /metrics}, or null for none
 * @param linkTls      {@code --link-tls-certificates}: mutual TLS on the links to the controllers, or null
 */
public record FrontSettings(ListenAddress listen, Map<String, InetSocketAddress> controllers, LinkSecret secret,
                            Duration lease, List<String> fenceCommand, UUID arrayUuid, FrontConfig front,
                            java.nio.file.Path adminSocket, InetSocketAddress metrics, io.parityd.link.LinkTls linkTls) {

    /** Without link TLS. */
    public FrontSettings(ListenAddress listen, Map<String, InetSocketAddress> controllers, LinkSecret secret,
                         Duration lease, List<String> fenceCommand, UUID arrayUuid, FrontConfig front,
                         java.nio.file.Path adminSocket, InetSocketAddress metrics) {
        this(listen, controllers, secret, lease, fenceCommand, arrayUuid, front, adminSocket, metrics, null);
    }

    /**
     * The default lease. Heartbeats go every 100 ms, so a lease of 500 ms survives four lost in a
     * row (a busy host, a GC pause) and still lets a failover finish well under a second.
     */
    public static final Duration DEFAULT_LEASE = Duration.ofMillis(500);

    public FrontSettings {
        Objects.requireNonNull(listen, "listen");
        if (controllers == null || controllers.size() != 2) {
            throw new IllegalArgumentException("an HA pair has two controllers: give --controller ID=HOST:PORT twice");
        }
        controllers = new LinkedHashMap<>(controllers);
        if (lease.compareTo(Duration.ofMillis(200)) < 0) {
            throw new IllegalArgumentException("--lease " + lease.toMillis() + "ms is shorter than two heartbeats"
                    + " (200ms): the front would give up on healthy controllers");
        }
        fenceCommand = List.copyOf(fenceCommand);
    }
}
