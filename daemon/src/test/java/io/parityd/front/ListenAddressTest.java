package io.parityd.front;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ListenAddressTest {

    @Test
    void shouldParseTheFormsOperatorsWrite() {
        assertThat(ListenAddress.parseTcp("127.0.0.1:10809")).isEqualTo(new ListenAddress.Tcp("127.0.0.1", 10809));
        assertThat(ListenAddress.parseTcp("0.0.0.0:0")).isEqualTo(new ListenAddress.Tcp("0.0.0.0", 0));
        assertThat(ListenAddress.parseTcp("storage1")).isEqualTo(new ListenAddress.Tcp("storage1", 10809));
        assertThat(ListenAddress.parseTcp(":10900")).isEqualTo(new ListenAddress.Tcp("127.0.0.1", 10900));
        assertThat(ListenAddress.parseTcp("[::1]:10809")).isEqualTo(new ListenAddress.Tcp("::1", 10809));
        assertThat(ListenAddress.parseTcp("[::]")).isEqualTo(new ListenAddress.Tcp("::", 10809));
        assertThat(new ListenAddress.Tcp("::1", 10809)).hasToString("[::1]:10809");
    }

    @Test
    void shouldExplainWhatIsWrong() {
        assertThatThrownBy(() -> ListenAddress.parseTcp("host:http")).hasMessageContaining("is not a number");
        assertThatThrownBy(() -> ListenAddress.parseTcp("::1:10809")).hasMessageContaining("brackets");
        assertThatThrownBy(() -> ListenAddress.parseTcp("[::1:10809")).hasMessageContaining("missing ']'");
        assertThatThrownBy(() -> ListenAddress.parseTcp("host:70000")).hasMessageContaining("out of range");
    }
}
