package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * NBD over TLS (issue 17, item 1) with libnbd as the client: nbdinfo, nbdcopy of 256 MiB of
 * random data in and back out (the WRITE payloads then come through TLS, not straight off the
 * socket), and fio's NBD engine with verification, all on nbds:// URIs; {@code --tls require}
 * refusing plain clients with NBD_REP_ERR_TLS_REQD; {@code --tls-verify-peer} refusing clients
 * without a certificate or with one of another CA; and hostile handshakes (garbage instead of
 * a ClientHello, bytes smuggled behind STARTTLS, STARTTLS twice) ending only their own connection.
 * Certificates are made here with openssl.
 */
class TlsIT extends DaemonTestBase {

    private static final int OPT_STARTTLS = 5;
    private static final int OPT_GO = 7;
    private static final int REP_ACK = 1;
    private static final int REP_ERR_INVALID = 0x80000003;
    private static final int REP_ERR_TLS_REQD = 0x80000005;

    @Test
    void shouldServeLibnbdOverTlsAndRefusePlainClientsWhenRequired() throws Exception {
        Tools.require("nbdcopy", "libnbd-bin");
        Tools.require("openssl", "openssl");
        Tools.require("fio", "fio");
        TestPki pki = TestPki.make(dir.resolve("pki"));
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create("tls", "129M", members);
        daemon = Arrays.serve(dir.resolve("serve.log"), members, "--tls", "require", "--tls-certificates",
                pki.server().toString());
        assertThat(daemon.log()).contains("TLS required");
        String uri = tlsUri(pki.client());

        assertThat(Parityd.check(List.of("nbdinfo", "--size", uri), Duration.ofSeconds(30)).trim())
                .isEqualTo(Long.toString(256L << 20));
        Path in = dir.resolve("in.bin");
        Path out = dir.resolve("out.bin");
        byte[] block = new byte[1 << 20];
        Random random = new Random(1717);
        try (var o = Files.newOutputStream(in)) {
            for (int i = 0; i < 256; i++) {
                random.nextBytes(block);
                o.write(block);
            }
        }
        Parityd.check(List.of("nbdcopy", "--flush", in.toString(), uri), Duration.ofMinutes(3));
        Parityd.check(List.of("nbdcopy", uri, out.toString()), Duration.ofMinutes(3));
        assertThat(Files.mismatch(in, out)).as("256 MiB through TLS and back").isEqualTo(-1);
        Files.delete(in);
        Files.delete(out);
        // fio's NBD engine lets libnbd read no local files, so no tls-certificates: TLS without checking
        // the server's certificate (what the URI's tls-verify-peer=false asks for).
        Fio.writeAndVerify("nbds://127.0.0.1:" + daemon.port() + "/tls?tls-verify-peer=false", "32m", 8, 7);

        // A plain client: NBD_REP_ERR_TLS_REQD for GO; libnbd says so too.
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", daemon.port()), 5000);
            Raw raw = new Raw(s.getInputStream(), s.getOutputStream());
            raw.greeting();
            raw.option(OPT_GO, goData("tls"));
            assertThat(raw.replyType(OPT_GO)).isEqualTo(REP_ERR_TLS_REQD);
        }
        Parityd.Result plain = Parityd.exec(List.of("nbdinfo", daemon.uri()), Duration.ofSeconds(30));
        assertThat(plain.exitCode()).as("nbdinfo without TLS").isNotZero();

        hostileHandshakesEndOnlyTheirOwnConnection(pki);
        assertThat(Parityd.check(List.of("nbdinfo", "--size", uri), Duration.ofSeconds(30)).trim())
                .as("still serving after the hostile handshakes").isEqualTo(Long.toString(256L << 20));
        // The smuggled option is caught before TLS starts when it came in the same read (the usual
        // case), or by TLS itself as "not an SSL/TLS record" when it came in a later one.
        assertThat(daemon.log()).contains("TLS handshake failed")
                .containsPattern("in the clear behind NBD_OPT_STARTTLS|not an SSL/TLS record: 49484156454f5054");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        Arrays.assertParityClean(members);
    }

    private void hostileHandshakesEndOnlyTheirOwnConnection(TestPki pki) throws Exception {
        // Garbage instead of a ClientHello.
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", daemon.port()), 5000);
            Raw raw = new Raw(s.getInputStream(), s.getOutputStream());
            raw.greeting();
            raw.option(OPT_STARTTLS, new byte[0]);
            assertThat(raw.replyType(OPT_STARTTLS)).isEqualTo(REP_ACK);
            raw.out.write(new byte[] {'G', 'E', 'T', ' ', '/', '\r', '\n', '\r', '\n', 0, 0, 0, 0, 0, 0, 0});
            raw.out.flush();
            assertThat(closedByServer(s)).as("garbage instead of a ClientHello").isTrue();
        }
        // An option smuggled in the clear behind STARTTLS, in the same segment.
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", daemon.port()), 5000);
            Raw raw = new Raw(s.getInputStream(), s.getOutputStream());
            raw.greeting();
            // One write, so that both options reach the server in one segment.
            java.io.ByteArrayOutputStream both = new java.io.ByteArrayOutputStream();
            Raw buffer = new Raw(InputStream.nullInputStream(), both);
            buffer.optionHeader(OPT_STARTTLS, new byte[0]);
            buffer.optionHeader(OPT_GO, goData("tls"));
            raw.out.write(both.toByteArray());
            raw.out.flush();
            assertThat(raw.replyType(OPT_STARTTLS)).isEqualTo(REP_ACK);
            assertThat(closedByServer(s)).as("bytes behind STARTTLS").isTrue();
        }
        // STARTTLS once TLS is up: NBD_REP_ERR_INVALID, and the connection goes on.
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", daemon.port()), 5000);
            Raw plain = new Raw(s.getInputStream(), s.getOutputStream());
            plain.greeting();
            plain.option(OPT_STARTTLS, new byte[0]);
            assertThat(plain.replyType(OPT_STARTTLS)).isEqualTo(REP_ACK);
            SSLSocket tls = (SSLSocket) pki.clientContext().getSocketFactory().createSocket(s, "127.0.0.1", daemon.port(),
                    false);
            tls.startHandshake();
            Raw raw = new Raw(tls.getInputStream(), tls.getOutputStream());
            raw.option(OPT_STARTTLS, new byte[0]);
            assertThat(raw.replyType(OPT_STARTTLS)).as("STARTTLS twice").isEqualTo(REP_ERR_INVALID);
            raw.option(OPT_GO, goData("tls"));
            assertThat(raw.replyType(OPT_GO)).as("GO through TLS").isEqualTo(3 /* NBD_REP_INFO */);
        }
    }

    @Test
    void shouldRequireAClientCertificateOfItsCaWithVerifyPeerAndRefuseUnsafeKeys() throws Exception {
        Tools.require("nbdinfo", "libnbd-bin");
        Tools.require("openssl", "openssl");
        TestPki pki = TestPki.make(dir.resolve("pki"));
        TestPki other = TestPki.make(dir.resolve("other"));
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create("peer", "33M", members);

        // A key every user may read is refused, naming the file and the fix; nothing starts.
        Path key = pki.server().resolve("server-key.pem");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        List<String> args = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:0", "--tls", "on",
                "--tls-certificates", pki.server().toString()));
        args.addAll(Arrays.paths(members));
        Parityd.Result refused = Parityd.run(args.toArray(String[]::new));
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.stderr()).contains(key + " is readable by every user").contains("chmod o-rwx " + key);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));

        daemon = Arrays.serve(dir.resolve("serve.log"), members, "--tls", "on", "--tls-certificates",
                pki.server().toString(), "--tls-verify-peer");
        assertThat(Parityd.check(List.of("nbdinfo", "--size", tlsUri(pki.client())), Duration.ofSeconds(30)).trim())
                .as("a client with a certificate of the server's CA").isEqualTo(Long.toString(64L << 20));
        Path noCert = Files.createDirectories(dir.resolve("no-cert"));
        Files.copy(pki.client().resolve("ca-cert.pem"), noCert.resolve("ca-cert.pem"));
        assertThat(Parityd.exec(List.of("nbdinfo", "--size", tlsUri(noCert)), Duration.ofSeconds(30)).exitCode())
                .as("a client without a certificate").isNotZero();
        Path strange = Files.createDirectories(dir.resolve("strange"));
        Files.copy(pki.client().resolve("ca-cert.pem"), strange.resolve("ca-cert.pem")); // trusts the server
        Files.copy(other.client().resolve("client-cert.pem"), strange.resolve("client-cert.pem"));
        Files.copy(other.client().resolve("client-key.pem"), strange.resolve("client-key.pem"));
        assertThat(Parityd.exec(List.of("nbdinfo", "--size", tlsUri(strange)), Duration.ofSeconds(30)).exitCode())
                .as("a client whose certificate another CA signed").isNotZero();
        // --tls on still serves plain clients.
        assertThat(Parityd.check(List.of("nbdinfo", "--size", daemon.uri()), Duration.ofSeconds(30)).trim())
                .as("a plain client with --tls on").isEqualTo(Long.toString(64L << 20));
        assertThat(daemon.log()).contains("TLS handshake failed");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
    }

    private String tlsUri(Path clientDir) {
        return "nbds://127.0.0.1:" + daemon.port() + "/" + daemon.exportName() + "?tls-certificates=" + clientDir;
    }

    private static byte[] goData(String name) {
        byte[] n = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return java.nio.ByteBuffer.allocate(4 + n.length + 2).putInt(n.length).put(n).putShort((short) 0).array();
    }

    private static boolean closedByServer(Socket s) throws Exception {
        s.setSoTimeout(10_000);
        try {
            InputStream in = s.getInputStream();
            byte[] sink = new byte[4096];
            while (in.read(sink) >= 0) {
                // whatever came first (a TLS alert) is skipped
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.io.IOException e) {
            return true; // reset
        }
    }

    /** The handshake's option phase, by hand. */
    private static final class Raw {
        final DataInputStream in;
        final DataOutputStream out;

        Raw(InputStream in, java.io.OutputStream out) {
            this.in = new DataInputStream(in);
            this.out = new DataOutputStream(out);
        }

        void greeting() throws Exception {
            assertThat(in.readLong()).isEqualTo(0x4e42444d41474943L);
            assertThat(in.readLong()).isEqualTo(0x49484156454F5054L);
            in.readUnsignedShort();
            out.writeInt(1 | 2); // FIXED_NEWSTYLE | NO_ZEROES
        }

        void optionHeader(int option, byte[] data) throws Exception {
            out.writeLong(0x49484156454F5054L);
            out.writeInt(option);
            out.writeInt(data.length);
            out.write(data);
        }

        void option(int option, byte[] data) throws Exception {
            optionHeader(option, data);
            out.flush();
        }

        /** The type of the first reply to {@code option}; its data is skipped. */
        int replyType(int option) throws Exception {
            assertThat(in.readLong()).isEqualTo(0x3e889045565a9L);
            assertThat(in.readInt()).isEqualTo(option);
            int type = in.readInt();
            in.skipNBytes(in.readInt());
            return type;
        }
    }
}
