package io.parityd.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, defect 1, over a real loopback socket: a client that sends {@code NBD_OPT_LIST} again
 * and again and never reads its replies must not make the server queue them without bound, and a
 * well-behaved client on the same event loop is served promptly meanwhile and after.
 */
class HandshakeFloodSocketTest {

    private static final int LIST = 3;
    private static final int GO = 7;
    /** 2 MiB of NBD_OPT_LIST: 131,072 options, each worth 63 bytes of replies. */
    private static final int FLOOD_BYTES = 2 << 20;
    private static final long WITNESS_BOUND_MS = 2_000;

    private final List<Channel> accepted = new CopyOnWriteArrayList<>();
    /** The server's own allocator, so its metrics count this server's buffers only. */
    private final PooledByteBufAllocator allocator = new PooledByteBufAllocator(true);
    private EventLoopGroup group;
    private Channel server;
    private int port;

    @BeforeEach
    void startServer() throws InterruptedException {
        // One event loop: the flood and the witness share it, as clients of a busy daemon do.
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.ALLOCATOR, allocator)
                // Small kernel buffers: what piles up must pile up where the test can see it.
                .childOption(ChannelOption.SO_SNDBUF, 8192)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.add(ch);
                        NbdServerPipeline.install(ch.pipeline(), FakeCatalog.standard(),
                                session -> new ChannelInboundHandlerAdapter());
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    @AfterEach
    void stopServer() throws InterruptedException {
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    @Test
    void shouldKeepRepliesBoundedAndServeOthersWhileAClientFloodsListWithoutReading() throws Exception {
        Socket flooder = new Socket();
        flooder.setReceiveBufferSize(4096); // what the kernel holds for it is not what the test measures
        flooder.connect(new InetSocketAddress("127.0.0.1", port));
        new DataInputStream(flooder.getInputStream()).readFully(new byte[18]);
        Thread flood = new Thread(() -> flood(flooder), "list-flood");
        Sampler sampler = new Sampler();
        sampler.start();
        flood.start();
        long witnessMeanwhile = witness();
        flood.join(TimeUnit.SECONDS.toMillis(30));
        // A flooder the server stopped reading from blocks in write(); closing its socket ends it.
        sampler.stopAndJoin();
        flooder.close();
        flood.join(10_000);
        long witnessAfter = witness();

        assertThat(sampler.maxPending).as("reply bytes the server queued for the flooder").isLessThan(256 << 10);
        assertThat(sampler.maxUsed).as("buffer memory of the server").isLessThan(16 << 20);
        assertThat(witnessMeanwhile).as("ms to serve a well-behaved client during the flood").isLessThan(WITNESS_BOUND_MS);
        assertThat(witnessAfter).as("ms to serve a well-behaved client after the flood").isLessThan(WITNESS_BOUND_MS);
    }

    /** Samples the server's queued replies and buffer memory every millisecond until stopped. */
    private final class Sampler extends Thread {
        volatile long maxPending;
        volatile long maxUsed;
        private volatile boolean stop;

        Sampler() {
            super("flood-sampler");
        }

        @Override
        public void run() {
            while (!stop) {
                maxPending = Math.max(maxPending, pendingReplyBytes());
                maxUsed = Math.max(maxUsed, allocator.metric().usedDirectMemory() + allocator.metric().usedHeapMemory());
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void stopAndJoin() throws InterruptedException {
            stop = true;
            join();
        }
    }

    /** Flags, then NBD_OPT_LIST back to back, 64 KiB per write, never reading a reply. */
    private static void flood(Socket socket) {
        ByteBuffer chunk = ByteBuffer.allocate(64 << 10);
        while (chunk.hasRemaining()) {
            chunk.putLong(Nbd.IHAVEOPT).putInt(LIST).putInt(0);
        }
        try {
            OutputStream out = socket.getOutputStream();
            out.write(Wire.clientFlags(3));
            for (int sent = 0; sent < FLOOD_BYTES; sent += chunk.capacity()) {
                out.write(chunk.array());
            }
        } catch (IOException closed) {
            // the server hung up on the flooder, or the test closed its socket: either ends the flood
        }
    }

    /** Bytes of replies waiting in the server's outbound buffers, across its connections. */
    private long pendingReplyBytes() {
        long pending = 0;
        for (Channel ch : accepted) {
            ChannelOutboundBuffer buffer = ch.unsafe().outboundBuffer();
            pending += buffer == null ? 0 : buffer.totalPendingWriteBytes();
        }
        return pending;
    }

    /** A client that reads its replies: LIST, then GO; milliseconds until it is in transmission. */
    private long witness() throws IOException {
        long started = System.nanoTime();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout((int) WITNESS_BOUND_MS * 5);
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            in.readFully(new byte[18]);
            out.write(Wire.concat(Wire.clientFlags(3), Wire.option(LIST, new byte[0])));
            out.flush();
            assertThat(repliesUntilAck(in)).as("LIST replies: two exports, then ACK").isEqualTo(3);
            out.write(Wire.option(GO, Wire.infoData("disk")));
            out.flush();
            assertThat(repliesUntilAck(in)).as("GO replies").isGreaterThanOrEqualTo(2);
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    }

    private static int repliesUntilAck(DataInputStream in) throws IOException {
        for (int n = 1; ; n++) {
            assertThat(in.readLong()).isEqualTo(Nbd.OPTION_REPLY_MAGIC);
            in.readInt();
            int type = in.readInt();
            in.readFully(new byte[in.readInt()]);
            if (type == 1) {
                return n;
            }
            assertThat(type).as("reply type").isPositive();
        }
    }
}
