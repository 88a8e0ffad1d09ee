package io.parityd.link;

import io.netty.handler.codec.DecoderException;

/**
 * The stream from a peer cannot be followed: bad magic or version, an unknown type, an absurd
 * length, or a body that does not parse exactly. The message says what was wrong and the offending
 * value. By the time a handler sees one, {@link FrameDecoder} has logged it and closed the channel;
 * handlers need not log it again.
 */
public final class LinkProtocolException extends DecoderException {

    private static final long serialVersionUID = 1L;

    public LinkProtocolException(String message) {
        super(message);
    }
}
