package io.parityd.metrics;

import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.parityd.admin.ArrayStatus;
import io.parityd.nvram.Journal;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One process's metrics: its registry, the meters it binds, and the endpoint serving them. A
 * service builds one when {@code --metrics} is given; every meter is created through it, once.
 */
public final class Metrics implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private NbdMetrics nbd;
    private ArrayCounters counters;
    private MetricsEndpoint endpoint;

    /** The front's traffic meters (created on first call). */
    public synchronized NbdMetrics nbd() {
        if (nbd == null) {
            nbd = new NbdMetrics(registry);
        }
        return nbd;
    }

    /** Member failures and mismatches found, for an array of {@code slots} (created on first call). */
    public synchronized ArrayCounters counters(int slots) {
        if (counters == null) {
            counters = new ArrayCounters(registry, slots);
        }
        return counters;
    }

    /**
     * The front's failovers: each one's stall, from the old primary's last word until the new one
     * serves, as {@code parityd_ha_failover_seconds} (a histogram, buckets around the one-second
     * goal of DESIGN.md's G3). Returns what records one.
     */
    public synchronized Consumer<Duration> failovers() {
        Timer timer = Timer.builder("parityd.ha.failover")
                .description("how long a failover stalled clients: from the old primary's last word to the new one serving")
                .serviceLevelObjectives(Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
                        Duration.ofMillis(750), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5),
                        Duration.ofSeconds(10), Duration.ofSeconds(30))
                .register(registry);
        return timer::record;
    }

    /**
     * The memory the NBD server's requests share (issue 14):
     * <pre>
     * parityd_nbd_request_memory_capacity_bytes     what they may hold at once
     * parityd_nbd_request_memory_used_bytes         what they hold now
     * parityd_nbd_request_memory_waiting_connections connections that stopped reading until memory comes back
     * parityd_nbd_request_memory_waits_total        times a connection had to wait
     * </pre>
     */
    public void requestMemory(io.parityd.protocol.PayloadBudget budget) {
        io.micrometer.core.instrument.Gauge.builder("parityd.nbd.request.memory.capacity", budget,
                        io.parityd.protocol.PayloadBudget::capacity)
                .baseUnit("bytes").description("memory every client's requests in flight may hold at once")
                .register(registry);
        io.micrometer.core.instrument.Gauge.builder("parityd.nbd.request.memory.used", budget,
                        io.parityd.protocol.PayloadBudget::used)
                .baseUnit("bytes").description("memory the requests in flight hold now (payloads and read replies)")
                .register(registry);
        io.micrometer.core.instrument.Gauge.builder("parityd.nbd.request.memory.waiting", budget,
                        io.parityd.protocol.PayloadBudget::waiting)
                .baseUnit("connections").description("connections that stopped reading until memory comes back")
                .register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("parityd.nbd.request.memory.waits", budget,
                        io.parityd.protocol.PayloadBudget::waits)
                .description("times a connection had to wait for memory for its next request").register(registry);
    }

    public void journal(Journal journal) {
        JournalMetrics.bind(registry, journal);
    }

    /**
     * Binds the status gauges ({@link StatusMetrics}) and starts serving {@code /metrics} at
     * {@code address}.
     */
    public synchronized MetricsEndpoint serve(InetSocketAddress address, Supplier<ArrayStatus> status, int slots)
            throws IOException {
        StatusMetrics gauges = new StatusMetrics(registry, status, slots);
        endpoint = MetricsEndpoint.start(address, registry, gauges::refresh);
        return endpoint;
    }

    /** The endpoint's URL, once serving. */
    public synchronized String url() {
        return endpoint == null ? null : endpoint.url();
    }

    @Override
    public synchronized void close() {
        if (endpoint != null) {
            endpoint.close();
        }
        registry.close();
    }
}
