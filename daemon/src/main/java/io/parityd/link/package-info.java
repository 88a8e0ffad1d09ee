/**
 * The internal links between parityd nodes (front ↔ controller, controller ↔ controller): the
 * versioned frame format ({@link io.parityd.link.LinkFormat}), its messages and Netty codec, and
 * the handshake that authenticates both ends with a shared secret.
 * Nothing here decides anything about roles, epochs or requests: what a message means and what to do
 * about it belongs to whoever installs a handler after {@link io.parityd.link.LinkPipeline}.
 */
package io.parityd.link;
