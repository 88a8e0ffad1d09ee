package io.parityd.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.parityd.front.RequestObserver;
import io.parityd.protocol.CommandType;
import io.parityd.protocol.NbdError;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The front's traffic, per NBD command: requests, errors by errno, payload bytes, and latency as a
 * histogram; connections and requests in flight. Every meter is created here, once; a request
 * only looks its meters up in arrays indexed by enum ordinal.
 *
 * <pre>
 * parityd_nbd_requests_total{command}                 requests answered (ok or not)
 * parityd_nbd_request_errors_total{command,errno}     of those and of refused ones, answered with an error
 * parityd_nbd_bytes_total{command}                    payload bytes moved (read, write)
 * parityd_nbd_request_duration_seconds{command}       histogram: handed over until answered
 * parityd_nbd_request_size_bytes{command}             histogram: the length each request asked for
 * parityd_nbd_connections                             clients past the handshake
 * parityd_nbd_connections_refused_total               connections refused: --max-connections reached
 * parityd_nbd_requests_in_flight                      handed over, not answered yet
 * </pre>
 */
public final class NbdMetrics implements RequestObserver {

    /** The commands that are answered (CACHE without reaching a controller); others (DISC, ...) are only ever refused. */
    private static final CommandType[] SERVED = {CommandType.READ, CommandType.WRITE, CommandType.FLUSH,
        CommandType.TRIM, CommandType.WRITE_ZEROES, CommandType.CACHE};

    private static final double[] SIZE_BUCKETS = {512, 4 << 10, 64 << 10, 1 << 20, 4 << 20, 32 << 20, 1 << 30};

    private final Map<CommandType, Counter> requests = new EnumMap<>(CommandType.class);
    private final Map<CommandType, Counter> bytes = new EnumMap<>(CommandType.class);
    private final Map<CommandType, Timer> latency = new EnumMap<>(CommandType.class);
    private final Map<CommandType, DistributionSummary> sizes = new EnumMap<>(CommandType.class);
    private final Map<CommandType, Map<NbdError, Counter>> errors = new EnumMap<>(CommandType.class);
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong inFlight = new AtomicLong();
    private final Counter refusedConnections;

    public NbdMetrics(MeterRegistry registry) {
        for (CommandType c : CommandType.values()) {
            String command = name(c);
            Map<NbdError, Counter> byErrno = new EnumMap<>(NbdError.class);
            for (NbdError e : NbdError.values()) {
                byErrno.put(e, Counter.builder("parityd.nbd.request.errors")
                        .description("NBD requests answered with an error, by command and errno")
                        .tag("command", command).tag("errno", e.name()).register(registry));
            }
            errors.put(c, byErrno);
        }
        for (CommandType c : SERVED) {
            String command = name(c);
            requests.put(c, Counter.builder("parityd.nbd.requests").description("NBD requests answered, by command")
                    .tag("command", command).register(registry));
            bytes.put(c, Counter.builder("parityd.nbd.bytes").baseUnit("bytes")
                    .description("payload bytes read or written by NBD requests").tag("command", command)
                    .register(registry));
            latency.put(c, Timer.builder("parityd.nbd.request.duration")
                    .description("time from handing an NBD request to the controller until it was answered")
                    .tag("command", command).publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofNanos(10_000)).maximumExpectedValue(Duration.ofSeconds(30))
                    .register(registry));
            // Fixed buckets at the sizes that tell clients apart: the kernel's 512-byte sectors,
            // page-sized I/O, the kernel client's 32 MiB requests, and a whole-device TRIM.
            sizes.put(c, DistributionSummary.builder("parityd.nbd.request.size").baseUnit("bytes")
                    .description("length asked for by each NBD request (FLUSH: 0)").tag("command", command)
                    .serviceLevelObjectives(SIZE_BUCKETS).register(registry));
        }
        Gauge.builder("parityd.nbd.connections", connections, AtomicLong::get)
                .description("NBD clients connected (past the handshake)").register(registry);
        refusedConnections = Counter.builder("parityd.nbd.connections.refused")
                .description("NBD connections refused because --max-connections were open").register(registry);
        Gauge.builder("parityd.nbd.requests.in.flight", inFlight, AtomicLong::get)
                .description("NBD requests handed to the controller and not answered yet").register(registry);
    }

    private static String name(CommandType c) {
        return c.name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public void started(CommandType command, long length) {
        inFlight.incrementAndGet();
        DistributionSummary size = sizes.get(command);
        if (size != null) {
            size.record(length);
        }
    }

    @Override
    public void completed(CommandType command, long byteCount, long nanos, NbdError error) {
        inFlight.decrementAndGet();
        Counter r = requests.get(command);
        if (r == null) {
            return;
        }
        r.increment();
        latency.get(command).record(nanos, TimeUnit.NANOSECONDS);
        if (error != null) {
            errors.get(command).get(error).increment();
        } else if (byteCount > 0) {
            bytes.get(command).increment(byteCount);
        }
    }

    @Override
    public void refused(CommandType command, NbdError error) {
        errors.get(command).get(error).increment();
    }

    @Override
    public void connectionRefused() {
        refusedConnections.increment();
    }

    @Override
    public void connected() {
        connections.incrementAndGet();
    }

    @Override
    public void disconnected() {
        connections.decrementAndGet();
    }
}
