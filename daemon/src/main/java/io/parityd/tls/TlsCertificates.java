package io.parityd.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * The server's TLS context from a certificates directory laid out as nbdkit, qemu and libnbd lay
 * it out: {@code ca-cert.pem} (the CA that signs clients' certificates, needed to verify them),
 * {@code server-cert.pem} and {@code server-key.pem}. TLS itself is the JDK's, through Netty's
 * {@code SslHandler}; nothing here does cryptography. TLS 1.2 and 1.3 only.
 *
 * <p>Refusals name the file and the fix: a missing file, a key readable by every user (anyone on
 * the host could then impersonate the server), and a key in PKCS#1 form ({@code BEGIN RSA PRIVATE
 * KEY}, certtool's default), which the JDK cannot read without a conversion to PKCS#8.
 */
public final class TlsCertificates {

    public static final String CA = "ca-cert.pem";
    public static final String CERT = "server-cert.pem";
    public static final String KEY = "server-key.pem";

    private TlsCertificates() {
    }

    /**
     * @param verifyPeer require a client certificate signed by {@code DIR/ca-cert.pem}
     * @throws IllegalArgumentException naming the file that is wrong and how to fix it
     */
    public static SslContext server(Path dir, boolean verifyPeer) {
        String option = "--tls-certificates";
        CertFiles files = CertFiles.check(option, dir, verifyPeer);
        try {
            SslContextBuilder b = serverBuilder(files);
            if (verifyPeer) {
                b.trustManager(files.ca().toFile()).clientAuth(ClientAuth.REQUIRE);
            }
            return b.build();
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " " + dir + ": cannot use " + CERT + " and " + KEY
                    + (verifyPeer ? " (with " + CA + ")" : "") + ": " + rootMessage(e));
        }
    }

    /**
     * Mutual TLS for the internal links from {@code DIR}, the same layout: each node presents
     * {@code server-cert.pem} both when it answers and when it dials (so the certificate must
     * allow both uses: no extended key usage, or serverAuth and clientAuth), and accepts only
     * peers whose certificate {@code ca-cert.pem} signed. No host name is checked: which node a
     * peer is, the shared-secret handshake inside TLS proves.
     *
     * @throws IllegalArgumentException naming the file that is wrong and how to fix it
     */
    public static io.parityd.link.LinkTls link(Path dir) {
        String option = "--link-tls-certificates";
        CertFiles files = CertFiles.check(option, dir, true);
        try {
            SslContext server = serverBuilder(files).trustManager(files.ca().toFile()).clientAuth(ClientAuth.REQUIRE)
                    .build();
            SslContext client = SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols(PROTOCOLS)
                    .keyManager(files.cert().toFile(), files.key().toFile()).trustManager(files.ca().toFile())
                    .endpointIdentificationAlgorithm(null).build();
            return new io.parityd.link.LinkTls(server, client);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " " + dir + ": cannot use " + CERT + ", " + KEY + " and " + CA
                    + ": " + rootMessage(e));
        }
    }

    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private static SslContextBuilder serverBuilder(CertFiles files) {
        return SslContextBuilder.forServer(files.cert().toFile(), files.key().toFile()).sslProvider(SslProvider.JDK)
                .protocols(PROTOCOLS);
    }

    /** A certificates directory's files, each checked: present, readable, and a key safe to use. */
    private record CertFiles(Path cert, Path key, Path ca) {

        static CertFiles check(String option, Path dir, boolean needCa) {
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException(option + " " + dir + " is not a directory (it holds " + CA + ", "
                        + CERT + " and " + KEY + ", as for nbdkit and qemu-nbd)");
            }
            Path cert = readable(option, dir, CERT);
            Path key = readable(option, dir, KEY);
            checkKey(key);
            return new CertFiles(cert, key, needCa ? readable(option, dir, CA) : dir.resolve(CA));
        }
    }

    private static Path readable(String option, Path dir, String name) {
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(option + " " + dir + " has no " + name + " (the directory holds "
                    + CA + ", " + CERT + " and " + KEY + ", as for nbdkit and qemu-nbd)");
        }
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException(file + " is not readable by this user: run parityd as its owner, or"
                    + " chown the file to the user parityd runs as");
        }
        return file;
    }

    private static void checkKey(Path key) {
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(key);
            if (mode.contains(PosixFilePermission.OTHERS_READ)) {
                throw new IllegalArgumentException(key + " is readable by every user (mode "
                        + java.nio.file.attribute.PosixFilePermissions.toString(mode) + "), so anyone on this host could"
                        + " pose as this server: chmod o-rwx " + key);
            }
            String text = Files.readString(key, StandardCharsets.US_ASCII);
            if (text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN EC PRIVATE KEY")) {
                throw new IllegalArgumentException(key + " is a PKCS#1 key (BEGIN ... PRIVATE KEY with the algorithm"
                        + " named), which Java cannot read: convert it with openssl pkcs8 -topk8 -nocrypt -in " + key
                        + " -out " + key + ".new && mv " + key + ".new " + key + " (certtool: --pkcs8)");
            }
            if (text.contains("BEGIN ENCRYPTED PRIVATE KEY")) {
                throw new IllegalArgumentException(key + " is encrypted with a passphrase, which a daemon cannot type:"
                        + " decrypt it with openssl pkcs8 -topk8 -nocrypt -in " + key + " -out " + key + ".new and keep"
                        + " it mode 0600");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + key + ": " + e.getMessage());
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.toString() : root.getMessage();
    }
}
