package io.parityd.protocol;

import io.netty.handler.ssl.SslContext;
import java.util.Objects;

/**
 * Whether and how a server speaks TLS (proto.md "TLS support"): the client asks with
 * {@code NBD_OPT_STARTTLS} during option haggling, and the rest of the connection is TLS.
 *
 * @param mode    {@link Mode#OFF}: STARTTLS gets {@code NBD_REP_ERR_UNSUP} (the spec's NOTLS mode);
 *                {@link Mode#ON}: offered, plain clients served too (SELECTIVETLS with every
 *                export served either way, as {@code nbdkit --tls=on}); {@link Mode#REQUIRE}: the
 *                spec's FORCEDTLS mode, every option but STARTTLS and ABORT answered
 *                {@code NBD_REP_ERR_TLS_REQD} until TLS is up (EXPORT_NAME, which cannot carry an
 *                error, ends the connection)
 * @param context the server's TLS context (certificate, key, and whether a client certificate is
 *                required); null exactly when the mode is OFF
 */
public record NbdTls(Mode mode, SslContext context) {

    public enum Mode { OFF, ON, REQUIRE }

    public static final NbdTls OFF = new NbdTls(Mode.OFF, null);

    public NbdTls {
        Objects.requireNonNull(mode, "mode");
        if ((mode == Mode.OFF) != (context == null)) {
            throw new IllegalArgumentException("a TLS context goes with TLS modes on and require, and only with them");
        }
        if (context != null && !context.isServer()) {
            throw new IllegalArgumentException("a server needs a server TLS context");
        }
    }

    public boolean offered() {
        return mode != Mode.OFF;
    }
}
