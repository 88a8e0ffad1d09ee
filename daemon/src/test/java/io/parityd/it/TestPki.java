package io.parityd.it;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A test CA made with openssl, in the layout nbdkit, qemu and libnbd use: {@code server} holds
 * ca-cert.pem, server-cert.pem (for 127.0.0.1) and server-key.pem; {@code client} ca-cert.pem,
 * client-cert.pem and client-key.pem; {@code node} a certificate for both uses, as a node of an HA
 * pair presents on its links (named server-cert.pem, the layout --link-tls-certificates reads).
 */
record TestPki(Path server, Path client, Path ca, Path node) {

    static TestPki make(Path root) throws Exception {
        Path ca = Files.createDirectories(root.resolve("ca"));
        Path server = Files.createDirectories(root.resolve("server"));
        Path client = Files.createDirectories(root.resolve("client"));
        openssl(root, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=parityd test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout", ca.resolve("ca-key.pem").toString(), "-out", ca.resolve("ca-cert.pem").toString());
        sign(root, ca, server, "server", "/CN=127.0.0.1",
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
        sign(root, ca, client, "client", "/CN=parityd test client", "extendedKeyUsage=clientAuth\n");
        // A node of an HA pair presents one certificate both ways on its links, named as a server's.
        Path node = Files.createDirectories(root.resolve("node"));
        sign(root, ca, node, "server", "/CN=parityd test node",
                "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
        for (Path d : List.of(server, client, node)) {
            Files.copy(ca.resolve("ca-cert.pem"), d.resolve("ca-cert.pem"));
        }
        return new TestPki(server, client, ca, node);
    }

    private static void sign(Path root, Path ca, Path dir, String who, String subject, String extensions)
            throws Exception {
        Path key = dir.resolve(who + "-key.pem");
        Path csr = root.resolve(who + ".csr");
        Path ext = root.resolve(who + ".ext");
        Files.writeString(ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                + extensions);
        openssl(root, "req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", key.toString(),
                "-out", csr.toString());
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        openssl(root, "x509", "-req", "-in", csr.toString(), "-CA", ca.resolve("ca-cert.pem").toString(),
                "-CAkey", ca.resolve("ca-key.pem").toString(), "-CAcreateserial", "-days", "30",
                "-extfile", ext.toString(), "-out", dir.resolve(who + "-cert.pem").toString());
    }

    private static void openssl(Path cwd, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Parityd.check(cmd, Duration.ofSeconds(60));
    }

    /** A Java client context that trusts this CA (for the raw handshake tests). */
    SSLContext clientContext() throws Exception {
        X509Certificate caCert;
        try (InputStream in = Files.newInputStream(ca.resolve("ca-cert.pem"))) {
            caCert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("ca", caCert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
