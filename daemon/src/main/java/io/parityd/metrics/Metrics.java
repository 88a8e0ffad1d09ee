package io.parityd.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.parityd.admin.ArrayStatus;
import io.parityd.nvram.Journal;
import java.io.IOException;
import java.net.InetSocketAddress;
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
