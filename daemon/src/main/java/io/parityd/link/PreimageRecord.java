package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.ByteBufUtil;

import java.util.Objects;

/**
 * A degraded stripe's preimage (the bytes a crash mid-write would destroy, see
 * {@code io.parityd.raid.Preimage}), sent by the primary to its standby before it touches the
 * stripe, so that whichever controller survives can restore the stripe. {@code id} pairs it with
 * its {@link PreimageHeld}; {@code ownerSeq} is the front's seq of the request writing the stripe;
 * {@code offset} is the stripe's first byte on the volume; {@code data} is the encoded preimage
 * (never empty). Whoever holds one releases it.
 */
public record PreimageRecord(long id, long ownerSeq, long offset, ByteBuf data) implements LinkMessage, ByteBufHolder {

    /** @throws IllegalArgumentException if the data is empty or over {@link LinkFormat#MAX_DATA} */
    public PreimageRecord {
        Objects.requireNonNull(data, "data");
        if (data.readableBytes() == 0 || data.readableBytes() > LinkFormat.MAX_DATA) {
            throw new IllegalArgumentException("a preimage of " + data.readableBytes() + " bytes");
        }
    }

    @Override
    public MessageType type() {
        return MessageType.PREIMAGE;
    }

    @Override
    public ByteBuf content() {
        return ByteBufUtil.ensureAccessible(data);
    }

    @Override
    public PreimageRecord copy() {
        return replace(data.copy());
    }

    @Override
    public PreimageRecord duplicate() {
        return replace(data.duplicate());
    }

    @Override
    public PreimageRecord retainedDuplicate() {
        return replace(data.retainedDuplicate());
    }

    @Override
    public PreimageRecord replace(ByteBuf content) {
        return new PreimageRecord(id, ownerSeq, offset, content);
    }

    @Override
    public int refCnt() {
        return data.refCnt();
    }

    @Override
    public PreimageRecord retain() {
        data.retain();
        return this;
    }

    @Override
    public PreimageRecord retain(int increment) {
        data.retain(increment);
        return this;
    }

    @Override
    public PreimageRecord touch() {
        data.touch();
        return this;
    }

    @Override
    public PreimageRecord touch(Object hint) {
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
}
