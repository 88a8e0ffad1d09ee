package io.parityd.link;

/**
 * The caller's say on a peer, asked by {@link LinkHandshake} once the peer's Hello arrived and belongs
 * to our array, before we prove our secret. Runs on the channel's event loop: it must not block.
 */
@FunctionalInterface
public interface HelloCheck {

    /** @return null to go on with the handshake, or why the link is refused (sent to the peer) */
    String check(Hello peer);

    static HelloCheck acceptAll() {
        return peer -> null;
    }
}
