package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.parityd.protocol.Nbd.OptionType;

/**
 * One option request of the handshake ({@code IHAVEOPT}, option, length, data), decoded whole.
 * The content is the option data: a retained slice of what arrived, owned (and released) by the
 * receiver. The raw option code is kept so that an unknown option can be answered by its number.
 */
final class OptionRequest extends DefaultByteBufHolder implements HandshakeRequest {

    private final int code;

    OptionRequest(int code, ByteBuf data) {
        super(data);
        this.code = code;
    }

    /** The option code exactly as the client sent it; every option reply echoes it. */
    int code() {
        return code;
    }

    OptionType option() {
        return OptionType.fromCode(code);
    }

    ByteBuf data() {
        return content();
    }

    @Override
    public OptionRequest replace(ByteBuf content) {
        return new OptionRequest(code, content);
    }

    @Override
    public String toString() {
        return option() + "(" + code + ") length=" + content().readableBytes();
    }
}
