package io.parityd.metrics;

import java.time.Duration;

/**
 * What one metrics endpoint grants its clients. Scrapers ask for one small page every few
 * seconds and send their whole request at once; everything past that is a client that is slow,
 * broken or hostile, and costs the daemon a socket and a buffer for as long as it is allowed to.
 *
 * @param requestTimeout  from a connection's first byte (or its opening) until its response is
 *                        written: longer and it is closed, however many bytes trickle in meanwhile
 * @param idleTimeout     how long a kept-alive connection may wait between two requests
 * @param maxConnections  connections open at once; one more is closed as soon as it is accepted
 */
public record EndpointLimits(Duration requestTimeout, Duration idleTimeout, int maxConnections) {

    /**
     * 10 s for a request: Prometheus's default {@code scrape_timeout}, after which the scraper has
     * given up anyway; a real scraper sends its request in one packet, in well under a second.
     */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);

    /**
     * 90 s between requests: longer than a one-minute scrape interval, the longest in common use,
     * so a scraper reuses its connection instead of opening one per scrape.
     */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(90);

    /**
     * 32 connections: a pair of Prometheus servers, an operator's curl and a dashboard's proxy use
     * a handful; the rest is headroom, and the cap keeps a flood of idle sockets from taking the
     * process's file descriptors.
     */
    public static final int DEFAULT_MAX_CONNECTIONS = 32;

    public static final EndpointLimits DEFAULT = new EndpointLimits(DEFAULT_REQUEST_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
            DEFAULT_MAX_CONNECTIONS);

    public EndpointLimits {
        if (requestTimeout.isNegative() || requestTimeout.isZero() || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("metrics timeouts must be positive: request " + requestTimeout
                    + ", idle " + idleTimeout);
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("metrics endpoint needs at least one connection, got " + maxConnections);
        }
    }
}
