package io.parityd.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the operator reads when the admin socket cannot be used, one case per way it fails. */
class AdminClientTest {

    @TempDir
    Path dir;

    /** A peer on a socket that reads one request line and answers {@code reply} verbatim (or nothing, if null). */
    private static final class CannedDaemon implements AutoCloseable {
        private final ServerSocketChannel server;
        private final Thread thread;

        CannedDaemon(Path socket, String reply) throws IOException {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            thread = new Thread(() -> serveOne(reply), "canned-daemon");
            thread.setDaemon(true);
            thread.start();
        }

        private void serveOne(String reply) {
            try (SocketChannel peer = server.accept()) {
                ByteBuffer in = ByteBuffer.allocate(65536);
                while (peer.read(in) > 0 && in.get(in.position() - 1) != '\n') {
                    // read up to the end of the request line
                }
                if (reply == null) {
                    peer.read(ByteBuffer.allocate(1)); // hold the connection open until the client gives up
                    return;
                }
                peer.write(ByteBuffer.wrap(reply.getBytes(StandardCharsets.UTF_8)));
            } catch (IOException e) {
                // the client went away: nothing to answer
            }
        }

        @Override
        public void close() throws Exception {
            server.close();
            thread.join(10_000);
        }
    }

    @Test
    void shouldSayNoDaemonServesTheNameWhenThereIsNoSocket() {
        Path socket = dir.resolve("vol7.sock");
        assertThatThrownBy(() -> new AdminClient(socket).status()).isInstanceOf(AdminException.class)
                .hasMessage("no parityd serves 'vol7' here: " + socket + " does not exist; is the array being served? "
                        + "(parityd serve … --admin-socket " + socket + ")");
    }

    @Test
    void shouldSayTheDaemonStoppedWhenTheSocketIsStale() throws Exception {
        Path socket = dir.resolve("vol0.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThatThrownBy(() -> new AdminClient(socket).status())
                .hasMessage("no parityd answers on " + socket + " (connection refused): the daemon that made it has stopped; "
                        + "start it again with parityd serve (it replaces the stale socket)");
    }

    @Test
    void shouldRefuseAPathThatIsNotASocket() throws Exception {
        Path file = Files.writeString(dir.resolve("vol0.sock"), "");
        assertThatThrownBy(() -> new AdminClient(file).status())
                .hasMessage(file + " is not a socket; give the admin socket of a running parityd with --admin-socket");
    }

    @Test
    void shouldNameBothVersionsWhenTheDaemonSpeaksAnother() throws Exception {
        Path socket = dir.resolve("vol0.sock");
        try (CannedDaemon newer = new CannedDaemon(socket, "{\"protocol\":2,\"ok\":true,\"status\":{}}\n")) {
            assertThatThrownBy(() -> new AdminClient(socket).status())
                    .hasMessage("the parityd on " + socket + " speaks admin protocol 2, this command speaks 1; use the parityd "
                            + "command of the version that runs the daemon, or restart the daemon after an upgrade");
        }
    }

    @Test
    void shouldNameTheVersionMismatchEvenWhenAnOlderDaemonRefusesTheRequest() throws Exception {
        Path socket = dir.resolve("vol0.sock");
        try (CannedDaemon older = new CannedDaemon(socket, "{\"protocol\":0,\"ok\":false,\"error\":\"what is this\"}\n")) {
            assertThatThrownBy(() -> new AdminClient(socket).fail("1", false)).hasMessageContaining("speaks admin protocol 0, this command speaks 1");
        }
    }

    @Test
    void shouldRefuseAnAnswerThatIsNotAResponse() throws Exception {
        Path socket = dir.resolve("vol0.sock");
        try (CannedDaemon other = new CannedDaemon(socket, "HTTP/1.0 400 Bad Request\n")) {
            assertThatThrownBy(() -> new AdminClient(socket).status())
                    .hasMessage("the parityd on " + socket + " answered something that is not a response: "
                            + "HTTP/1.0 400 Bad Request; is it a parityd admin socket?");
        }
    }

    @Test
    void shouldSayWhenTheDaemonHangsUpWithoutAnswering() throws Exception {
        Path socket = dir.resolve("vol0.sock");
        try (CannedDaemon rude = new CannedDaemon(socket, "")) {
            assertThatThrownBy(() -> new AdminClient(socket).status())
                    .hasMessage("the parityd on " + socket + " closed the connection without answering; see its log");
        }
    }

    @Test
    void shouldGiveUpOnADaemonThatNeverAnswers() throws Exception {
        Path socket = dir.resolve("vol0.sock");
        try (CannedDaemon stuck = new CannedDaemon(socket, null)) {
            assertThatThrownBy(() -> new AdminClient(socket, Duration.ofMillis(300)).status())
                    .hasMessage("the parityd on " + socket + " did not answer within 300 ms; it may be stuck: see its log");
        }
    }

    @Test
    void shouldSendAbsolutePathsWhatEverTheCallerGave() throws Exception {
        RecordingArrayControl control = new RecordingArrayControl(dir);
        try (AdminServer server = AdminServer.start(dir.resolve("vol0.sock"), control)) {
            new AdminClient(server.socket()).addSpare(Path.of("relative/../spare.img"));
        }
        assertThat(control.calls()).containsExactly("add-spare " + Path.of("spare.img").toAbsolutePath());
    }
}
