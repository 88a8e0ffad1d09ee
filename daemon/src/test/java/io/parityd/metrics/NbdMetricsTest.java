package io.parityd.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.parityd.protocol.CommandType;
import io.parityd.protocol.NbdError;
import org.junit.jupiter.api.Test;

class NbdMetricsTest {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final NbdMetrics metrics = new NbdMetrics(registry);

    @Test
    void shouldSortRequestSizesIntoBucketsThatTellClientsApart() {
        metrics.started(CommandType.WRITE, 512);
        metrics.started(CommandType.WRITE, 4096);
        metrics.started(CommandType.WRITE, 32 << 20);
        metrics.started(CommandType.TRIM, 400L << 20);
        String text = registry.scrape();

        assertThat(text)
                .contains("parityd_nbd_request_size_bytes_bucket{command=\"write\",le=\"512.0\"} 1")
                .contains("parityd_nbd_request_size_bytes_bucket{command=\"write\",le=\"4096.0\"} 2")
                .contains("parityd_nbd_request_size_bytes_bucket{command=\"write\",le=\"3.3554432E7\"} 3")
                .contains("parityd_nbd_request_size_bytes_max{command=\"write\"} 3.3554432E7")
                .contains("parityd_nbd_request_size_bytes_bucket{command=\"trim\",le=\"3.3554432E7\"} 0")
                .contains("parityd_nbd_request_size_bytes_bucket{command=\"trim\",le=\"1.073741824E9\"} 1")
                .contains("parityd_nbd_request_size_bytes_sum{command=\"trim\"} 4.194304E8");
    }

    @Test
    void shouldCountConnectionsAndRequestsInFlight() {
        metrics.connected();
        metrics.connected();
        metrics.started(CommandType.FLUSH, 0);
        metrics.started(CommandType.READ, 4096);
        metrics.completed(CommandType.READ, 4096, 1_000, null);
        metrics.disconnected();
        String text = registry.scrape();

        assertThat(text)
                .contains("parityd_nbd_connections 1.0")
                .contains("parityd_nbd_requests_in_flight 1.0")
                .contains("parityd_nbd_requests_total{command=\"read\"} 1.0")
                .contains("parityd_nbd_bytes_total{command=\"read\"} 4096.0")
                .contains("parityd_nbd_request_size_bytes_count{command=\"flush\"} 1");
    }

    @Test
    void shouldCountAnErrorAnswerByErrnoAndNotItsBytes() {
        metrics.started(CommandType.WRITE, 65536);
        metrics.completed(CommandType.WRITE, 65536, 1_000, NbdError.EIO);
        String text = registry.scrape();

        assertThat(text)
                .contains("parityd_nbd_request_errors_total{command=\"write\",errno=\"EIO\"} 1.0")
                .contains("parityd_nbd_bytes_total{command=\"write\"} 0.0");
    }
}
