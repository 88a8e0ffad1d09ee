package io.parityd.protocol;

/**
 * A refused or failed request. With structured replies the message travels to the client in an
 * {@code NBD_REPLY_TYPE_ERROR} chunk; with simple replies only the errno does.
 */
public record ErrorReply(long cookie, NbdError error, String message) implements NbdReply {
}
