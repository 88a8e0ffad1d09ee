package io.parityd.attach;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** NBD URIs as libnbd and qemu write them (NBD's doc/uri.md), and the ones the kernel's client cannot use. */
class NbdUriTest {

    @Test
    void shouldReadHostPortAndExportAsLibnbdDoes() {
        assertThat(NbdUri.parse("nbd://127.0.0.1:10810/vol0"))
                .isEqualTo(new NbdUri(new InetSocketAddress("127.0.0.1", 10810), "vol0"));
        assertThat(NbdUri.parse("nbd://127.0.0.1")).as("default port, default export")
                .isEqualTo(new NbdUri(new InetSocketAddress("127.0.0.1", 10809), ""));
        assertThat(NbdUri.parse("nbd://127.0.0.1/")).isEqualTo(new NbdUri(new InetSocketAddress("127.0.0.1", 10809), ""));
        assertThat(NbdUri.parse("nbd://[::1]:10811/a%20b+c")).as("IPv6 host; percent-decoded, '+' kept")
                .isEqualTo(new NbdUri(new InetSocketAddress("::1", 10811), "a b+c"));
        assertThat(NbdUri.parse("nbd://127.0.0.1/dir/vol")).as("an export name may hold slashes")
                .isEqualTo(new NbdUri(new InetSocketAddress("127.0.0.1", 10809), "dir/vol"));
        assertThat(NbdUri.looksLikeUri("nbd://h/e")).isTrue();
        assertThat(NbdUri.looksLikeUri("127.0.0.1:10809")).isFalse();
    }

    @Test
    void shouldRefuseWhatTheKernelClientCannotReachAndSayWhy() {
        assertThatThrownBy(() -> NbdUri.parse("nbds://127.0.0.1/vol0")).hasMessageContaining("asks for TLS");
        assertThatThrownBy(() -> NbdUri.parse("nbd+unix:///vol0?socket=/run/p.sock"))
                .hasMessageContaining("names a Unix socket; the kernel's NBD client connects over TCP");
        assertThatThrownBy(() -> NbdUri.parse("http://127.0.0.1/vol0")).hasMessageContaining("is not an NBD URI");
        assertThatThrownBy(() -> NbdUri.parse("nbd:///vol0")).hasMessageContaining("names no host");
        assertThatThrownBy(() -> NbdUri.parse("nbd://user@127.0.0.1/vol0")).hasMessageContaining("user name");
        assertThatThrownBy(() -> NbdUri.parse("nbd://127.0.0.1:99999/vol0")).hasMessageContaining("port 99999 is not 1 to 65535");
        assertThatThrownBy(() -> NbdUri.parse("nbd://127.0.0.1/a b")).hasMessageContaining("not a valid NBD URI");
    }
}
