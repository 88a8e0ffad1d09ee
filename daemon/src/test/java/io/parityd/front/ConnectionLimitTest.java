package io.parityd.front;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parityd.front.ConnectionLimit.Verdict;
import org.junit.jupiter.api.Test;

class ConnectionLimitTest {

    @Test
    void shouldServeUpToTheLimitThenRefuseThenDrop() {
        ConnectionLimit limit = new ConnectionLimit(2);
        assertThat(limit.admit()).isEqualTo(Verdict.SERVE);
        assertThat(limit.admit()).isEqualTo(Verdict.SERVE);
        assertThat(limit.admit()).as("over the limit: told why, then closed").isEqualTo(Verdict.REFUSE);
        assertThat(limit.admit()).isEqualTo(Verdict.REFUSE);
        assertThat(limit.admit()).as("as many refusals under way as served: closed at once").isEqualTo(Verdict.DROP);
        assertThat(limit.served()).isEqualTo(2);
        assertThat(limit.refusing()).isEqualTo(2);
    }

    @Test
    void shouldServeAgainOnceAServedConnectionCloses() {
        ConnectionLimit limit = new ConnectionLimit(1);
        assertThat(limit.admit()).isEqualTo(Verdict.SERVE);
        assertThat(limit.admit()).isEqualTo(Verdict.REFUSE);
        limit.release(Verdict.SERVE);
        assertThat(limit.admit()).isEqualTo(Verdict.SERVE);
        limit.release(Verdict.REFUSE);
        assertThat(limit.admit()).isEqualTo(Verdict.REFUSE);
        assertThat(limit.served()).isEqualTo(1);
        assertThat(limit.refusing()).isEqualTo(1);
    }

    @Test
    void shouldNotCountADroppedConnection() {
        ConnectionLimit limit = new ConnectionLimit(1);
        limit.admit();
        limit.admit();
        assertThat(limit.admit()).isEqualTo(Verdict.DROP);
        limit.release(Verdict.DROP);
        assertThat(limit.served()).isEqualTo(1);
        assertThat(limit.refusing()).isEqualTo(1);
    }

    @Test
    void shouldRefuseANonPositiveLimit() {
        assertThatThrownBy(() -> new ConnectionLimit(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
