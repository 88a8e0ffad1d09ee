package io.parityd.protocol;

/**
 * A reply by meaning, not by wire form: the reply encoder picks simple or structured
 * framing from what the session negotiated.
 */
public sealed interface NbdReply permits ReadReply, DoneReply, ErrorReply {

    /** The cookie (handle) of the request this answers. */
    long cookie();
}
