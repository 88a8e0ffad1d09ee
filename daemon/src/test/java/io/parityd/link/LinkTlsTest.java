package io.parityd.link;

import static io.parityd.link.Frames.ARRAY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.parityd.tls.TlsCertificates;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Links under mutual TLS (issue 17, item 2), two ends pumped by hand: the link handshake runs
 * inside TLS and nothing crosses in the clear; a peer that links without TLS is refused by its
 * name, and told so; a peer whose certificate another CA signed gets no link.
 */
class LinkTlsTest {

    private static final LinkSecret SECRET = LinkSecret.of("correct horse battery staple".getBytes(StandardCharsets.UTF_8));

    @TempDir
    static Path dir;
    private static LinkTls ours;
    private static LinkTls strangers;
    private final List<End> ends = new ArrayList<>();

    @BeforeAll
    static void certificates() throws Exception {
        assumeTrue(new ProcessBuilder("openssl", "version").start().waitFor() == 0, "openssl is not installed"
                + " (apt-get install openssl): the link TLS tests make their certificates with it");
        ours = TlsCertificates.link(node(dir.resolve("ours")));
        strangers = TlsCertificates.link(node(dir.resolve("strangers")));
    }

    @AfterEach
    void close() {
        ends.forEach(e -> {
            e.recorder.messages.forEach(ReferenceCountUtil::release);
            e.channel.finishAndReleaseAll();
        });
    }

    @Test
    void shouldLinkInsideTlsAndSendNothingInTheClear() {
        End a = end(LinkSide.DIALS, "ctl-a", ours);
        End b = end(LinkSide.ANSWERS, "ctl-b", ours);
        pump(a, b);
        assertThat(a.established()).as("ctl-a linked").isTrue();
        assertThat(b.established()).as("ctl-b linked").isTrue();
        assertThat(a.sent.toByteArray()[0]).as("the dialler's first byte: a TLS handshake record").isEqualTo((byte) 0x16);
        assertThat(new String(a.sent.toByteArray(), StandardCharsets.ISO_8859_1)).as("no node name in the clear")
                .doesNotContain("ctl-a");
        assertThat(new String(b.sent.toByteArray(), StandardCharsets.ISO_8859_1)).doesNotContain("ctl-b");
    }

    @Test
    void shouldRefuseAPeerThatLinksWithoutTlsByItsName() {
        End a = end(LinkSide.DIALS, "ctl-a", null);
        End b = end(LinkSide.ANSWERS, "ctl-b", ours);
        pump(a, b);
        assertThat(b.established()).isFalse();
        assertThat(a.refusal()).as("what the plain peer is told")
                .contains("controller ctl-a linked without TLS, and this controller ctl-b requires it")
                .contains("--link-tls-certificates");
        assertThat(b.channel.isOpen()).isFalse();
    }

    @Test
    void shouldGiveNoLinkToAPeerWhoseCertificateAnotherCaSigned() {
        End a = end(LinkSide.DIALS, "ctl-a", strangers);
        End b = end(LinkSide.ANSWERS, "ctl-b", ours);
        pump(a, b);
        assertThat(a.established()).isFalse();
        assertThat(b.established()).isFalse();
        assertThat(a.channel.isOpen() && b.channel.isOpen()).as("one end closed the connection").isFalse();
    }

    private End end(LinkSide side, String id, LinkTls tls) {
        End e = new End(side, Frames.hello(NodeKind.CONTROLLER, id, ARRAY), tls);
        ends.add(e);
        return e;
    }

    private static void pump(End a, End b) {
        boolean moved;
        int turns = 0;
        do {
            // The flush consolidation flushes from a task: run it before looking for bytes.
            a.channel.runPendingTasks();
            b.channel.runPendingTasks();
            moved = carry(a, b) | carry(b, a);
        } while (moved && ++turns < 1000);
    }

    private static boolean carry(End from, End to) {
        byte[] bytes = from.take();
        if (bytes.length == 0) {
            return false;
        }
        if (to.channel.isOpen()) {
            try {
                to.channel.writeInbound(Unpooled.wrappedBuffer(bytes));
            } catch (io.netty.handler.codec.DecoderException refused) {
                // a failed TLS handshake, rethrown by the embedded channel: the pipeline closed it
            }
        }
        return true;
    }

    private static final class End {
        final EmbeddedChannel channel = new EmbeddedChannel();
        final LinkRecorder recorder = new LinkRecorder();
        final ByteArrayOutputStream sent = new ByteArrayOutputStream();

        End(LinkSide side, Hello hello, LinkTls tls) {
            LinkPipeline.install(channel.pipeline(), side, hello, SECRET, HelloCheck.acceptAll(), Duration.ofSeconds(30),
                    tls);
            channel.pipeline().addLast(recorder);
        }

        byte[] take() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (Object o; (o = channel.readOutbound()) != null; ) {
                ByteBuf b = (ByteBuf) o;
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                b.release();
                out.writeBytes(bytes);
            }
            byte[] bytes = out.toByteArray();
            sent.writeBytes(bytes);
            return bytes;
        }

        boolean established() {
            return recorder.events.stream().anyMatch(e -> e instanceof LinkEstablished);
        }

        String refusal() {
            return recorder.events.stream().filter(e -> e instanceof LinkRefused).map(e -> ((LinkRefused) e).reason())
                    .findFirst().orElse("(not refused; events " + recorder.events + ")");
        }
    }

    /** A CA and one node certificate for both uses, made with openssl, in --link-tls-certificates' layout. */
    private static Path node(Path root) throws Exception {
        Files.createDirectories(root);
        openssl(root, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test link CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
                "-keyout", "ca-key.pem", "-out", "ca-cert.pem");
        openssl(root, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=test node", "-keyout", "server-key.pem",
                "-out", "node.csr");
        Files.writeString(root.resolve("node.ext"), "extendedKeyUsage=serverAuth,clientAuth\n");
        openssl(root, "x509", "-req", "-in", "node.csr", "-CA", "ca-cert.pem", "-CAkey", "ca-key.pem",
                "-CAcreateserial", "-days", "2", "-extfile", "node.ext", "-out", "server-cert.pem");
        Files.setPosixFilePermissions(root.resolve("server-key.pem"), PosixFilePermissions.fromString("rw-------"));
        return root;
    }

    private static void openssl(Path cwd, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as("openssl %s: %s", cmd, out).isTrue();
    }
}
