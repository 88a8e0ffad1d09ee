package io.parityd.protocol;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The handshake and codecs against a real client: libnbd's nbdinfo, nbdcopy and Python bindings
 * (packages libnbd-bin and python3-libnbd). Skipped where they are not installed.
 */
class LibnbdInteropTest {

    private static final String PYTHON = "/usr/bin/python3";
    private static final int SIZE = 64 << 20;

    private static EventLoopGroup group;
    private static Channel server;
    private static int port;
    private static final byte[] DISK = new byte[SIZE];

    @BeforeAll
    static void startServer() throws InterruptedException {
        ExportInfo disk = new ExportInfo("disk", "a parity volume", SIZE, FakeCatalog.SIZES,
                FakeCatalog.DISK.flags());
        FakeCatalog catalog = new FakeCatalog(disk, FakeCatalog.ARCHIVE);
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        NbdServerPipeline.install(ch.pipeline(), catalog, s -> new MemoryExportHandler(s, DISK));
                    }
                })
                .bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
        port = ((InetSocketAddress) server.localAddress()).getPort();
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        if (server != null) {
            server.close().sync();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static String uri(String export) {
        return "nbd://127.0.0.1:" + port + "/" + export;
    }

    private static boolean installed(String... probe) {
        try {
            return new ProcessBuilder(probe).redirectErrorStream(true).start().waitFor(20, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static boolean works(String... probe) {
        try {
            Process p = new ProcessBuilder(probe).redirectErrorStream(true).start();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!done) {
            p.destroyForcibly();
        }
        assertThat(done).as("%s finished in time; output:%n%s", List.of(command), out).isTrue();
        assertThat(p.exitValue()).as("%s exit status; output:%n%s", List.of(command), out).isZero();
        return out;
    }

    @Test
    void shouldDescribeTheExportToNbdinfo() throws Exception {
        assumeTrue(installed("nbdinfo", "--version"), "nbdinfo not installed");
        String json = run("nbdinfo", "--json", uri("disk"));
        assertThat(json).contains("\"export-size\": " + SIZE, "\"block_size_minimum\": 512",
                "\"block_size_preferred\": 4096", "\"block_size_maximum\": 33554432",
                "\"is_read_only\": false", "\"can_flush\": true", "\"can_fua\": true", "\"can_trim\": true",
                "\"can_zero\": true", "\"can_fast_zero\": true", "\"can_df\": true",
                "\"description\": \"a parity volume\"");
        String list = run("nbdinfo", "--list", uri(""));
        assertThat(list).contains("export=\"disk\"", "export=\"archive\"", "read-only copy");
    }

    @Test
    void shouldCopyDataInAndOutWithNbdcopy(@TempDir Path dir) throws Exception {
        assumeTrue(installed("nbdcopy", "--version"), "nbdcopy not installed");
        byte[] content = new byte[8 << 20];
        new Random(42).nextBytes(content);
        Path in = Files.write(dir.resolve("in.img"), content);
        Path out = dir.resolve("out.img");
        run("nbdcopy", "--request-size=1048576", in.toString(), uri("disk"));
        run("nbdcopy", uri("disk"), out.toString());
        byte[] back = Files.readAllBytes(out);
        assertThat(back).hasSize(SIZE);
        assertThat(java.util.Arrays.copyOf(back, content.length)).isEqualTo(content);
    }

    @Test
    void shouldServeLibnbdInEveryNegotiationStyleAndRefuseBadRequests() throws Exception {
        assumeTrue(works(PYTHON, "-c", "import nbd"), "python3-libnbd not installed");
        String script = """
                import errno, sys, nbd
                port, size = int(sys.argv[1]), int(sys.argv[2])

                def connect(structured=True, flags=None, export="disk"):
                    h = nbd.NBD()
                    h.set_export_name(export)
                    h.set_request_structured_replies(structured)
                    if flags is not None:
                        h.set_handshake_flags(flags)
                    h.connect_tcp("127.0.0.1", str(port))
                    return h

                def refused(expected, call):
                    try:
                        call()
                    except nbd.Error as e:
                        # Older bindings report the errno by name.
                        assert e.errno in (expected, errno.errorcode[expected]), (e.errno, e.string)
                        return
                    raise AssertionError("not refused")

                for structured in (True, False):
                    for flags in (None, 0, nbd.HANDSHAKE_FLAG_FIXED_NEWSTYLE):
                        h = connect(structured, flags)
                        assert h.get_size() == size
                        assert h.get_structured_replies_negotiated() == (structured and flags != 0)
                        h.pwrite(b"p" * 8192, 4096, nbd.CMD_FLAG_FUA)
                        assert h.pread(8192, 4096) == b"p" * 8192
                        h.zero(4096, 8192, nbd.CMD_FLAG_NO_HOLE)
                        assert h.pread(4096, 8192) == bytes(4096)
                        h.trim(4096, 4096)
                        h.flush()
                        h.set_strict_mode(0)
                        refused(errno.EINVAL, lambda: h.pread(4096, size))
                        refused(errno.EINVAL, lambda: h.pread(100, 1))
                        refused(errno.ENOSPC, lambda: h.pwrite(b"x" * 4096, size))
                        refused(errno.EINVAL, lambda: h.pwrite(bytes(33554432 + 512), 0))
                        assert h.pread(512, 0) == bytes(512)  # the stream is still in step
                        h.shutdown()
                        print("ok", structured, flags)

                h = connect()
                assert h.get_block_size(nbd.SIZE_MINIMUM) == 512
                assert h.get_block_size(nbd.SIZE_MAXIMUM) == 33554432
                h.shutdown()

                h = connect(export="archive")
                assert h.is_read_only()
                h.set_strict_mode(0)
                refused(errno.EPERM, lambda: h.pwrite(bytes(512), 0))
                h.shutdown()

                h = nbd.NBD()
                h.set_export_name("nope")
                try:
                    h.connect_tcp("127.0.0.1", str(port))
                    raise AssertionError("connected to a missing export")
                except nbd.Error as e:
                    assert "no export named 'nope'" in e.string, e.string
                print("all ok")
                """;
        String out = run(PYTHON, "-c", script, String.valueOf(port), String.valueOf(SIZE));
        assertThat(out).contains("all ok");
    }
}
