package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FaultProxyTest {

    private static final int WAIT_MILLIS = 5_000;
    private static final int SILENCE_MILLIS = 300;

    private final Deque<AutoCloseable> toClose = new ArrayDeque<>();
    private EchoServer echo;
    private FaultProxy proxy;

    @BeforeEach
    void startEchoAndProxy() throws IOException {
        echo = closeLater(new EchoServer());
        proxy = closeLater(FaultProxy.start(echo.address()));
    }

    @AfterEach
    void closeEverything() throws Exception {
        Exception first = null;
        while (!toClose.isEmpty()) {
            try {
                toClose.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Test
    void shouldPassAMebibyteOfRandomBytesUnchanged() throws Exception {
        byte[] sent = new byte[1 << 20];
        new Random(20260101).nextBytes(sent);
        Socket client = connect();
        ExecutorService writer = executor();

        Future<?> writing = writer.submit(() -> {
            client.getOutputStream().write(sent);
            client.getOutputStream().flush();
            return null;
        });
        byte[] received = readExactly(client, sent.length);
        writing.get(WAIT_MILLIS, TimeUnit.MILLISECONDS);

        assertThat(sha256(received)).isEqualTo(sha256(sent));
        assertThat(proxy.bytesForwarded()).as("both directions").isEqualTo(2L * sent.length);
        assertThat(proxy.connections()).isEqualTo(1);
    }

    @Test
    void shouldResetOpenConnectionsAndRefuseNewOnesUntilRestored() throws Exception {
        Socket client = connect();
        assertEchoes(client, "before");

        proxy.cut();

        assertThatThrownBy(() -> client.getInputStream().read())
                .as("the proxy closed with SO_LINGER 0, so the client sees a reset, not a timeout")
                .isInstanceOf(SocketException.class);
        awaitTrue(() -> echo.open() == 0, "the server side is closed too");
        assertRefused();
        awaitTrue(() -> proxy.connections() == 0, "no connection stays open while cut");

        proxy.restore();

        assertEchoes(connect(), "after");
    }

    @Test
    void shouldDropBytesWhileBlackholedAndKeepTheConnectionOpen() throws Exception {
        Socket client = connect();
        assertEchoes(client, "before");
        long forwarded = proxy.bytesForwarded();

        proxy.blackhole(true);
        write(client, "lost");

        assertSilent(client);
        assertThat(client.isClosed()).isFalse();
        assertThat(proxy.connections()).isEqualTo(1);
        assertThat(proxy.bytesForwarded()).isEqualTo(forwarded);

        proxy.restore();

        assertEchoes(client, "after");
        assertSilent(client);
    }

    @Test
    void shouldBlackholeConnectionsMadeWhileOn() throws Exception {
        proxy.blackhole(true);
        Socket client = connect();
        write(client, "lost");
        assertSilent(client);

        proxy.blackhole(false);

        assertEchoes(client, "found");
    }

    @Test
    void shouldHoldBytesWhilePausedAndThenDeliverThemInOrder() throws Exception {
        Socket client = connect();
        assertEchoes(client, "before");
        long forwarded = proxy.bytesForwarded();

        proxy.pause(true);
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            String piece = i + ",";
            write(client, piece);
            expected.append(piece);
        }
        assertSilent(client);
        assertThat(proxy.bytesForwarded()).isEqualTo(forwarded);
        assertThat(echo.received()).isEqualTo("before".length());

        proxy.pause(false);

        byte[] back = readExactly(client, expected.length());
        assertThat(new String(back, StandardCharsets.US_ASCII)).isEqualTo(expected.toString());
    }

    @Test
    void shouldPauseConnectionsMadeWhileOn() throws Exception {
        proxy.pause(true);
        Socket client = connect();
        write(client, "held");
        assertSilent(client);
        assertThat(echo.received()).isZero();

        proxy.restore();

        assertThat(new String(readExactly(client, 4), StandardCharsets.US_ASCII)).isEqualTo("held");
    }

    @Test
    void shouldCloseEveryConnectionAndTheListenerOnClose() throws Exception {
        Socket client = connect();
        assertEchoes(client, "before");
        int port = proxy.port();

        proxy.close();

        assertThat(readOrError(client)).as("EOF or reset").isIn(-1, -2);
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(IOException.class);
    }

    // ---- helpers --------------------------------------------------------------------------

    private <T extends AutoCloseable> T closeLater(T resource) {
        toClose.push(resource);
        return resource;
    }

    private ExecutorService executor() {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        return closeLater(new ExecutorCloser(pool)).pool;
    }

    private Socket connect() throws IOException {
        Socket s = closeLater(new Socket());
        s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), WAIT_MILLIS);
        s.setSoTimeout(WAIT_MILLIS);
        return s;
    }

    /** A connection made while cut either fails at once or is reset before any echo. */
    private void assertRefused() throws IOException {
        Socket s = closeLater(new Socket());
        try {
            s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), WAIT_MILLIS);
            s.setSoTimeout(WAIT_MILLIS);
            write(s, "x");
        } catch (IOException refused) {
            return;
        }
        assertThat(readOrError(s)).as("EOF or reset, not an echo").isIn(-1, -2);
    }

    /** The next byte, -1 at EOF, -2 on a reset; a timeout fails the test. */
    private static int readOrError(Socket s) throws IOException {
        try {
            return s.getInputStream().read();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("nothing happened within " + s.getSoTimeout() + " ms", e);
        } catch (SocketException reset) {
            return -2;
        }
    }

    private static void write(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    private static void assertEchoes(Socket s, String text) throws IOException {
        write(s, text);
        assertThat(new String(readExactly(s, text.length()), StandardCharsets.US_ASCII)).isEqualTo(text);
    }

    /** Nothing arrives for a while, and the connection is still there afterwards. */
    private static void assertSilent(Socket s) throws IOException {
        int timeout = s.getSoTimeout();
        s.setSoTimeout(SILENCE_MILLIS);
        try {
            int b = s.getInputStream().read();
            fail("expected silence, got " + (b < 0 ? "EOF" : "byte " + b));
        } catch (SocketTimeoutException expected) {
            // a timeout leaves a java.net.Socket usable
        } finally {
            s.setSoTimeout(timeout);
        }
    }

    private static byte[] readExactly(Socket s, int length) throws IOException {
        byte[] data = new byte[length];
        InputStream in = s.getInputStream();
        int at = 0;
        while (at < length) {
            int n = in.read(data, at, length - at); // bounded by the socket's timeout
            if (n < 0) {
                throw new IOException("EOF after " + at + " of " + length + " bytes");
            }
            at += n;
        }
        return data;
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + WAIT_MILLIS + " ms: " + what);
            }
            Thread.sleep(10);
        }
    }

    private static void awaitStopped(ExecutorService pool, String what) {
        try {
            if (!pool.awaitTermination(WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException(what + " did not stop in " + WAIT_MILLIS + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + what + " to stop", e);
        }
    }

    private record ExecutorCloser(ExecutorService pool) implements AutoCloseable {
        @Override
        public void close() {
            pool.shutdownNow();
            awaitStopped(pool, "a test thread");
        }
    }

    /** Echoes every byte back, one thread per connection; counts what it received. */
    private static final class EchoServer implements AutoCloseable {

        private final ServerSocket server;
        private final ExecutorService threads = Executors.newCachedThreadPool();
        private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
        private final AtomicLong received = new AtomicLong();

        EchoServer() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
            threads.execute(this::acceptAll);
        }

        InetSocketAddress address() {
            return new InetSocketAddress("127.0.0.1", server.getLocalPort());
        }

        long received() {
            return received.get();
        }

        int open() {
            return sockets.size();
        }

        private void acceptAll() {
            while (true) {
                Socket s;
                try {
                    s = server.accept();
                } catch (IOException closed) {
                    return; // close() closed the listener
                }
                sockets.add(s);
                threads.execute(() -> echo(s));
            }
        }

        private void echo(Socket s) {
            byte[] buf = new byte[16384];
            try (s) {
                InputStream in = s.getInputStream();
                int n;
                while ((n = in.read(buf)) >= 0) {
                    received.addAndGet(n);
                    s.getOutputStream().write(buf, 0, n);
                }
            } catch (IOException ended) {
                // the proxy reset or closed the connection: the tests judge that from the client's side
            } finally {
                sockets.remove(s);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
            threads.shutdownNow();
            awaitStopped(threads, "the echo threads");
        }
    }
}
