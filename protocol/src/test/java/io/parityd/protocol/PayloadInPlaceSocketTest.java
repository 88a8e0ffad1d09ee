package io.parityd.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Over a real loopback socket and Netty's own read loop: a large WRITE payload is read by the
 * kernel straight into its buffer. An EmbeddedChannel cannot show this, because it never reads
 * through an allocator; and a channel fixes its allocator handle at its first read, so a test
 * here is what catches an allocator installed too late.
 */
class PayloadInPlaceSocketTest {

    private static final int PAYLOAD = 8 << 20;

    @Test
    void shouldReadMostOfALargePayloadStraightIntoItsBuffer() throws Exception {
        ExportInfo export = new ExportInfo("x", "", 64L << 20, new BlockSizes(512, 4096, 32 << 20),
                Set.of(TransmissionFlag.SEND_FLUSH));
        ExportCatalog catalog = new ExportCatalog() {
            @Override
            public Optional<ExportInfo> find(String name) {
                return Optional.of(export);
            }

            @Override
            public List<ExportInfo> list() {
                return List.of(export);
            }
        };
        BlockingQueue<Object[]> seen = new ArrayBlockingQueue<>(4);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            NbdServerPipeline.install(ch.pipeline(), catalog, session -> new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    NbdRequest r = (NbdRequest) msg;
                                    long inPlace = ctx.channel().attr(NbdServerPipeline.RECEIVER).get().bytesInPlace();
                                    seen.add(new Object[] {ByteBufUtil.getBytes(r.payload()), inPlace});
                                    r.release();
                                }
                            });
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            byte[] payload = Wire.pattern(PAYLOAD, 17);
            try (Socket s = new Socket("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort())) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                in.readFully(new byte[18]);
                out.writeInt(3);
                byte[] name = "x".getBytes(StandardCharsets.UTF_8);
                out.writeLong(Nbd.IHAVEOPT);
                out.writeInt(7);
                out.writeInt(4 + name.length + 2);
                out.write(ByteBuffer.allocate(4 + name.length + 2).putInt(name.length).put(name).putShort((short) 0).array());
                out.flush();
                skipOptionRepliesUntilAck(in);
                out.write(Wire.concat(Wire.request(0, 1, 1, 0, PAYLOAD), payload));
                out.flush();
                Object[] got = seen.poll(30, TimeUnit.SECONDS);
                assertThat(got).as("request decoded").isNotNull();
                assertThat((byte[]) got[0]).isEqualTo(payload);
                assertThat((long) got[1]).as("payload bytes read straight into place").isGreaterThan(PAYLOAD * 9L / 10);
            }
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static void skipOptionRepliesUntilAck(DataInputStream in) throws Exception {
        while (true) {
            in.readLong();
            in.readInt();
            int type = in.readInt();
            in.readFully(new byte[in.readInt()]);
            if (type == 1) {
                return;
            }
        }
    }
}
