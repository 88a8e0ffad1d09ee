package io.parityd.cli;

import io.parityd.front.FrontConfig;
import io.parityd.protocol.HandshakeConfig;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** The options of the NBD server that {@code serve} and {@code front} share: what one client may hold. */
final class NbdServerOptions {

    @Option(names = "--handshake-timeout", paramLabel = "DURATION", defaultValue = "10s",
            description = "Close a connection that has not chosen an export this long after it was accepted,"
                    + " e.g. 10s, 500ms (default: ${DEFAULT-VALUE}, qemu-nbd's default handshake limit; real"
                    + " clients need milliseconds, and a client that trickles bytes holds a file descriptor)")
    private String handshakeTimeout;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "" + FrontConfig.DEFAULT_MAX_CONNECTIONS,
            description = "Serve at most N connections at once; one more is told why (NBD_REP_ERR_POLICY), then"
                    + " closed (default: ${DEFAULT-VALUE}, qemu's default: 25 clients with nbdcopy's 4 connections"
                    + " each; the server may hold twice N sockets, so raise LimitNOFILE with it)")
    private int maxConnections;

    @Option(names = {"-r", "--read-only"},
            description = "Export the volume read-only (NBD_FLAG_READ_ONLY): writes, trims and zeroes get EPERM"
                    + " and change nothing, as with nbdkit -r or qemu-nbd -r. A clean array then stays"
                    + " untouched; one that was not stopped cleanly is repaired first (journal replay or"
                    + " resync), and spares and rebuilds work as usual")
    private boolean readOnly;

    @Option(names = "--tls", paramLabel = "off|on|require", defaultValue = "off",
            description = "TLS for NBD clients (STARTTLS, as the NBD spec has it): off; on (offered, plain clients"
                    + " served too); require (plain clients are told NBD_REP_ERR_TLS_REQD). As nbdkit --tls"
                    + " (default: ${DEFAULT-VALUE})")
    private String tls;

    @Option(names = "--tls-certificates", paramLabel = "DIR",
            description = "With --tls on or require: the directory holding server-cert.pem, server-key.pem (mode 0600"
                    + " or 0640, PKCS#8) and ca-cert.pem, the layout nbdkit, qemu and libnbd use")
    private java.nio.file.Path tlsCertificates;

    @Option(names = "--tls-verify-peer",
            description = "With --tls: require each client to present a certificate signed by DIR/ca-cert.pem")
    private boolean tlsVerifyPeer;

    /** The TLS settings; a missing, unsafe or unreadable certificate file is named with its fix. */
    private io.parityd.protocol.NbdTls tls() {
        io.parityd.protocol.NbdTls.Mode mode = switch (tls) {
            case "off" -> io.parityd.protocol.NbdTls.Mode.OFF;
            case "on" -> io.parityd.protocol.NbdTls.Mode.ON;
            case "require" -> io.parityd.protocol.NbdTls.Mode.REQUIRE;
            default -> throw new IllegalArgumentException("--tls must be off, on or require, not '" + tls + "'");
        };
        if (mode == io.parityd.protocol.NbdTls.Mode.OFF) {
            if (tlsCertificates != null || tlsVerifyPeer) {
                throw new IllegalArgumentException((tlsCertificates != null ? "--tls-certificates" : "--tls-verify-peer")
                        + " is given but --tls is off: add --tls on (offer TLS) or --tls require");
            }
            return io.parityd.protocol.NbdTls.OFF;
        }
        if (tlsCertificates == null) {
            throw new IllegalArgumentException("--tls " + tls + " needs --tls-certificates DIR (server-cert.pem,"
                    + " server-key.pem and ca-cert.pem)");
        }
        return new io.parityd.protocol.NbdTls(mode,
                io.parityd.tls.TlsCertificates.server(tlsCertificates.toAbsolutePath(), tlsVerifyPeer));
    }

    /** {@link FrontConfig#DEFAULT} with these options applied; a bad value is a usage error. */
    FrontConfig frontConfig(CommandSpec spec) {
        try {
            Duration timeout = FrontCommand.parseDuration(handshakeTimeout, "--handshake-timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("--handshake-timeout must be more than 0, got '" + handshakeTimeout + "'");
            }
            if (maxConnections < 1) {
                throw new IllegalArgumentException("--max-connections must be at least 1, got " + maxConnections);
            }
            return FrontConfig.DEFAULT.withHandshake(new HandshakeConfig(timeout, tls()))
                    .withMaxConnections(maxConnections).withReadOnly(readOnly);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
