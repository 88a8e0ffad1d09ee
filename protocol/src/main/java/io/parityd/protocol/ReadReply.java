package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * The data of a successful READ: {@code content()} holds exactly the requested bytes, read from
 * the export at {@code offset}. The encoder sends it without copying and releases it.
 */
public final class ReadReply extends DefaultByteBufHolder implements NbdReply {

    private final long cookie;
    private final long offset;

    public ReadReply(long cookie, long offset, ByteBuf data) {
        super(data);
        this.cookie = cookie;
        this.offset = offset;
    }

    @Override
    public long cookie() {
        return cookie;
    }

    public long offset() {
        return offset;
    }

    @Override
    public ReadReply replace(ByteBuf content) {
        return new ReadReply(cookie, offset, content);
    }
}
