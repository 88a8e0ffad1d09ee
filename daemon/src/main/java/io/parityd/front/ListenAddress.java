package io.parityd.front;

import java.net.InetSocketAddress;
import java.nio.file.Path;

/** Where the NBD server listens: a TCP host and port, or a Unix domain socket path. */
public sealed interface ListenAddress {

    /** The IANA port for NBD; clients try it when none is given. */
    int NBD_PORT = 10809;

    /** A TCP endpoint; port 0 asks the kernel for a free one (the log then names it). */
    record Tcp(String host, int port) implements ListenAddress {
        public Tcp {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
        }

        public InetSocketAddress socketAddress() {
            return new InetSocketAddress(host, port);
        }

        @Override
        public String toString() {
            return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
        }
    }

    /** A Unix domain socket; only local clients, permissions by file mode. */
    record Unix(Path path) implements ListenAddress {
        @Override
        public String toString() {
            return path.toString();
        }
    }

    /**
     * Parses {@code HOST:PORT}, {@code [IPV6]:PORT}, {@code HOST} (port 10809) or {@code :PORT}
     * (loopback). The error message says what form is expected.
     */
    static Tcp parseTcp(String text) {
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("'" + text + "': missing ']' after an IPv6 address; use [::1]:10809");
            }
            host = text.substring(1, close);
            String rest = text.substring(close + 1);
            port = rest.isEmpty() ? null : rest.startsWith(":") ? rest.substring(1) : null;
            if (!rest.isEmpty() && port == null) {
                throw new IllegalArgumentException("'" + text + "': expected [HOST]:PORT");
            }
        } else {
            int colon = text.lastIndexOf(':');
            if (colon >= 0 && text.indexOf(':') != colon) {
                throw new IllegalArgumentException("'" + text + "': put an IPv6 address in brackets, e.g. [::1]:10809");
            }
            host = colon < 0 ? text : text.substring(0, colon);
            port = colon < 0 ? null : text.substring(colon + 1);
        }
        if (host.isEmpty()) {
            host = "127.0.0.1";
        }
        if (port == null) {
            return new Tcp(host, NBD_PORT);
        }
        try {
            return new Tcp(host, Integer.parseInt(port));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "': port '" + port + "' is not a number; use HOST:PORT, e.g. 127.0.0.1:10809");
        }
    }
}
