package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.util.Objects;

/**
 * The answer to the {@link Request} {@code seq}. {@code status} {@link LinkFormat#STATUS_OK} is
 * success; other values are small codes the caller defines, explained by {@code detail}. Data comes
 * only with a successful READ: on decode a retained slice of what arrived, never a copy. Whoever
 * holds a Reply releases it.
 */
public record Reply(long seq, int status, String detail, ByteBuf data) implements LinkMessage, ByteBufHolder {

    /** @throws IllegalArgumentException for data with a failure status, or more than {@link LinkFormat#MAX_DATA} */
    public Reply {
        LinkStrings.check("detail", detail);
        Objects.requireNonNull(data, "data (Unpooled.EMPTY_BUFFER for none)");
        int bytes = data.readableBytes();
        if (status != LinkFormat.STATUS_OK && bytes != 0) {
            throw new IllegalArgumentException("a reply with status " + status + " carries no data, got " + bytes
                    + " bytes");
        }
        if (bytes > LinkFormat.MAX_DATA) {
            throw new IllegalArgumentException("reply data of " + bytes + " bytes is over the limit of "
                    + LinkFormat.MAX_DATA);
        }
    }

    /** Without data. */
    public Reply(long seq, int status, String detail) {
        this(seq, status, detail, Unpooled.EMPTY_BUFFER);
    }

    public boolean ok() {
        return status == LinkFormat.STATUS_OK;
    }

    @Override
    public MessageType type() {
        return MessageType.REPLY;
    }

    @Override
    public ByteBuf content() {
        return ByteBufUtil.ensureAccessible(data);
    }

    @Override
    public Reply copy() {
        return replace(data.copy());
    }

    @Override
    public Reply duplicate() {
        return replace(data.duplicate());
    }

    @Override
    public Reply retainedDuplicate() {
        return replace(data.retainedDuplicate());
    }

    @Override
    public Reply replace(ByteBuf content) {
        return new Reply(seq, status, detail, content);
    }

    @Override
    public int refCnt() {
        return data.refCnt();
    }

    @Override
    public Reply retain() {
        data.retain();
        return this;
    }

    @Override
    public Reply retain(int increment) {
        data.retain(increment);
        return this;
    }

    @Override
    public Reply touch() {
        data.touch();
        return this;
    }

    @Override
    public Reply touch(Object hint) {
        data.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return data.release();
    }

    @Override
    public boolean release(int decrement) {
        return data.release(decrement);
    }

    @Override
    public String toString() {
        return "Reply[seq=" + seq + ", status=" + status + ", detail=" + detail + ", data=" + data.readableBytes()
                + " bytes]";
    }
}
