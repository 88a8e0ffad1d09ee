package io.parityd.unix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SocketFileTest {

    @TempDir
    Path dir;

    @Test
    void shouldLeaveAFreePathAlone() throws IOException {
        SocketFile.clearStale(dir.resolve("free.sock"), "--socket");
        assertThat(dir.resolve("free.sock")).doesNotExist();
    }

    @Test
    void shouldRemoveASocketNobodyAnswersOn() throws IOException {
        Path path = dir.resolve("stale.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(path));
        }
        assertThat(path).as("closing a server leaves its socket file, as a crash does").exists();
        SocketFile.clearStale(path, "--socket");
        assertThat(path).doesNotExist();
    }

    @Test
    void shouldRefuseALiveSocket() throws IOException {
        Path path = dir.resolve("live.sock");
        try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            live.bind(UnixDomainSocketAddress.of(path));
            assertThatThrownBy(() -> SocketFile.clearStale(path, "--admin-socket"))
                    .hasMessage("another server is listening on " + path + "; stop it or choose another --admin-socket path");
            assertThat(path).exists();
        }
    }

    @Test
    void shouldRefuseAFileThatIsNotASocket() throws IOException {
        Path path = Files.writeString(dir.resolve("data"), "keep me");
        assertThatThrownBy(() -> SocketFile.clearStale(path, "--socket"))
                .hasMessage(path + " exists and is not a socket; remove it or choose another --socket path");
        assertThat(path).hasContent("keep me");
    }
}
