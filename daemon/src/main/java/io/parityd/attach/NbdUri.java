package io.parityd.attach;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * A server address as every libnbd tool and qemu write it (the NBD URI specification,
 * {@code doc/uri.md} in the NBD project): {@code nbd://HOST[:PORT][/EXPORT]}, the port 10809 by
 * default, an IPv6 host in brackets, the export name percent-decoded and empty when absent. The
 * kernel's client reaches its server over TCP, so the Unix-socket forms ({@code nbd+unix://})
 * are refused with that reason, and the TLS forms ({@code nbds://}) with theirs.
 *
 * @param server     where to connect
 * @param exportName the export the URI names ("" for the server's default export)
 */
public record NbdUri(InetSocketAddress server, String exportName) {

    /** The IANA-assigned NBD port, the default when a URI names none. */
    public static final int DEFAULT_PORT = 10809;

    /** True if {@code text} is written as a URI (has a scheme), not as HOST:PORT. */
    public static boolean looksLikeUri(String text) {
        return text.contains("://");
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException naming what is wrong with it
     */
    public static NbdUri parse(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + text + "' is not a valid NBD URI: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme();
        switch (scheme) {
            case "nbd" -> { }
            case "nbds" -> throw new IllegalArgumentException("'" + text + "' asks for TLS (nbds://), which parityd attach"
                    + " does not speak yet: use nbd:// on a trusted network, or nbd-client with its TLS options");
            case "nbd+unix", "nbds+unix" -> throw new IllegalArgumentException("'" + text + "' names a Unix socket; the"
                    + " kernel's NBD client connects over TCP: serve on TCP (--listen) and use nbd://HOST:PORT/EXPORT");
            case "nbd+vsock", "nbds+vsock" -> throw new IllegalArgumentException("'" + text + "' names a vsock; the"
                    + " kernel's NBD client connects over TCP: use nbd://HOST:PORT/EXPORT");
            default -> throw new IllegalArgumentException("'" + text + "' is not an NBD URI: the scheme must be nbd://"
                    + " (as in nbd://127.0.0.1:10809/vol0)");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' names no host: write nbd://HOST[:PORT]/EXPORT");
        }
        if (uri.getUserInfo() != null) {
            throw new IllegalArgumentException("'" + text + "' has a user name, which only TLS with pre-shared keys"
                    + " uses (nbds://); parityd attach has none to give");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort();
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("'" + text + "': port " + port + " is not 1 to 65535");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String export = path.startsWith("/") ? path.substring(1) : path;
        // URLDecoder also turns '+' into a space; in a URI path '+' is itself.
        export = URLDecoder.decode(export.replace("+", "%2B"), StandardCharsets.UTF_8);
        return new NbdUri(new InetSocketAddress(host, port), export);
    }
}
