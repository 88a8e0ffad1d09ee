package io.parityd.link;

/** User event fired by {@link LinkHandshake} when the peer refused the link; the channel closes right after. */
public record LinkRefused(String reason) {
}
