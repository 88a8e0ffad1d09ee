package io.parityd.link;

/**
 * User event fired by {@link LinkHandshake} once both sides proved the shared secret: from here on
 * the channel carries the link's messages. {@code peer} is the Hello the peer authenticated.
 */
public record LinkEstablished(Hello peer) {
}
