package io.parityd.link;

import io.netty.handler.ssl.SslContext;
import java.util.Objects;

/**
 * Mutual TLS for the internal links (front ↔ controllers, controller ↔ controller): the node
 * answers with {@code server} and dials with {@code client}, both presenting the node's own
 * certificate and trusting only the link CA (see {@code TlsCertificates.link}). The shared-secret
 * handshake ({@link LinkHandshake}) still runs inside TLS as a second check. A node with link TLS
 * refuses a peer that dials it without TLS, by the peer's name.
 */
public record LinkTls(SslContext server, SslContext client) {

    public LinkTls {
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(client, "client");
        if (!server.isServer() || !client.isClient()) {
            throw new IllegalArgumentException("a server context to answer with and a client context to dial with");
        }
    }
}
