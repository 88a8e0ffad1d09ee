package io.parityd.attach;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parityd.controller.Controller;
import io.parityd.front.FrontConfig;
import io.parityd.front.ListenAddress;
import io.parityd.front.NbdServer;
import io.parityd.front.VolumeExport;
import io.parityd.protocol.TransmissionFlag;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The handshake {@code parityd attach} does before it gives a socket to the kernel, against
 * parityd's own NBD server on loopback, and against peers that are not NBD servers.
 */
class ClientHandshakeTest {

    private static final long SIZE = 96L << 20;

    private NbdServer server;
    private int fd = -1;

    @AfterEach
    void stop() throws Exception {
        Sockets.close(fd);
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void shouldLearnTheExportsSizeAndFlagsWithOptGo() throws Exception {
        server = NbdServer.start(new ListenAddress.Tcp("127.0.0.1", 0), new VolumeExport("vol0", "test", SIZE),
                new NullController(), FrontConfig.DEFAULT);
        fd = Sockets.connectTcp(((ListenAddress.Tcp) server.address()).socketAddress());

        ClientHandshake.Export export = ClientHandshake.go(fd, "vol0");

        assertThat(export.size()).isEqualTo(SIZE);
        assertThat(export.transmissionFlags() & TransmissionFlag.HAS_FLAGS.bit()).as("HAS_FLAGS").isNotZero();
        assertThat(export.transmissionFlags() & TransmissionFlag.SEND_FLUSH.bit()).as("SEND_FLUSH").isNotZero();
    }

    @Test
    void shouldReportTheServersRefusalOfAnUnknownExport() throws Exception {
        server = NbdServer.start(new ListenAddress.Tcp("127.0.0.1", 0), new VolumeExport("vol0", "test", SIZE),
                new NullController(), FrontConfig.DEFAULT);
        fd = Sockets.connectTcp(((ListenAddress.Tcp) server.address()).socketAddress());

        assertThatThrownBy(() -> ClientHandshake.go(fd, "no-such-volume"))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("refused export 'no-such-volume'").hasMessageContaining("ERR_UNKNOWN");
    }

    @Test
    void shouldRefuseAPeerThatIsNotAnNbdServer() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> peer = CompletableFuture.runAsync(() -> {
                try (Socket s = listener.accept(); OutputStream out = s.getOutputStream()) {
                    out.write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes());
                    out.flush();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            fd = Sockets.connectTcp(new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort()));
            assertThatThrownBy(() -> ClientHandshake.go(fd, "vol0")).isInstanceOf(IOException.class)
                    .hasMessageContaining("not an NBD server");
            peer.join();
        }
    }

    @Test
    void shouldReportAServerThatHangsUpMidHandshake() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> peer = CompletableFuture.runAsync(() -> {
                try (Socket s = listener.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                    ByteBuffer greeting = ByteBuffer.allocate(18).putLong(0x4e42444d41474943L).putLong(0x49484156454F5054L)
                            .putShort((short) 3);
                    out.write(greeting.array());
                    out.flush();
                    in.readNBytes(4); // the client's flags, then hang up before any reply
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            fd = Sockets.connectTcp(new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort()));
            assertThatThrownBy(() -> ClientHandshake.go(fd, "vol0")).isInstanceOf(IOException.class)
                    .hasMessageContaining("closed the connection");
            peer.join();
        }
    }

    @Test
    void shouldSayWhenNothingListens() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        assertThatThrownBy(() -> Sockets.connectTcp(new InetSocketAddress("127.0.0.1", port)))
                .isInstanceOf(IOException.class).hasMessageContaining("Connection refused");
    }

    /** Answers nothing: the handshake never reaches it. */
    private static final class NullController implements Controller {
        @Override
        public long size() {
            return SIZE;
        }

        @Override
        public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> write(long offset, io.netty.buffer.ByteBuf data, boolean fua) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly, boolean fua) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> trim(long offset, long length, boolean fua) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> flush() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void close() {
        }
    }
}
