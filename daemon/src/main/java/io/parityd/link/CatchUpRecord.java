package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.util.Objects;

/**
 * A record of the primary's journal that its standby must hold: copied when the standby joins,
 * or journaled since (the primary streams each one as it appends it). The same fields and data
 * rules as {@link Request}, except that with {@link LinkFormat#FLAG_COMMAND_ONLY} (a commands
 * journal) a WRITE carries no data. Whoever holds one releases it.
 */
public record CatchUpRecord(long seq, Command command, int flags, long offset, long length, ByteBuf data)
        implements LinkMessage, ByteBufHolder {

    /**
     * @throws IllegalArgumentException when the data does not match the command: a WRITE carries
     *         exactly {@code length} bytes (at most {@link LinkFormat#MAX_DATA}), anything else none
     */
    public CatchUpRecord {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(data, "data (Unpooled.EMPTY_BUFFER for none)");
        Request.checkData(command, flags, length, data);
    }

    /** Without data: anything but a WRITE, or a WRITE of length 0. */
    public CatchUpRecord(long seq, Command command, int flags, long offset, long length) {
        this(seq, command, flags, offset, length, Unpooled.EMPTY_BUFFER);
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    @Override
    public MessageType type() {
        return MessageType.CATCH_UP_RECORD;
    }

    @Override
    public ByteBuf content() {
        return ByteBufUtil.ensureAccessible(data);
    }

    @Override
    public CatchUpRecord copy() {
        return replace(data.copy());
    }

    @Override
    public CatchUpRecord duplicate() {
        return replace(data.duplicate());
    }

    @Override
    public CatchUpRecord retainedDuplicate() {
        return replace(data.retainedDuplicate());
    }

    @Override
    public CatchUpRecord replace(ByteBuf content) {
        return new CatchUpRecord(seq, command, flags, offset, length, content);
    }

    @Override
    public int refCnt() {
        return data.refCnt();
    }

    @Override
    public CatchUpRecord retain() {
        data.retain();
        return this;
    }

    @Override
    public CatchUpRecord retain(int increment) {
        data.retain(increment);
        return this;
    }

    @Override
    public CatchUpRecord touch() {
        data.touch();
        return this;
    }

    @Override
    public CatchUpRecord touch(Object hint) {
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
        return "CatchUpRecord[seq=" + seq + ", command=" + command + ", flags=0x" + Integer.toHexString(flags) + ", offset="
                + offset + ", length=" + length + ", data=" + data.readableBytes() + " bytes]";
    }
}
