package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.util.Objects;

/**
 * One I/O request from a front to a controller, or from a primary to a replica. A WRITE carries its
 * data: on decode a retained slice of what arrived, never a copy. Whoever holds a Request releases it.
 * {@code flags} are {@link LinkFormat#FLAG_FUA} and its neighbours.
 */
public record Request(long seq, Command command, int flags, long offset, long length, ByteBuf data)
        implements LinkMessage, ByteBufHolder {

    /**
     * @throws IllegalArgumentException when the data does not match the command: a WRITE carries
     *         exactly {@code length} bytes (at most {@link LinkFormat#MAX_DATA}), anything else none
     */
    public Request {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(data, "data (Unpooled.EMPTY_BUFFER for none)");
        checkData(command, length, data);
    }

    /** Without data: anything but a WRITE, or a WRITE of length 0. */
    public Request(long seq, Command command, int flags, long offset, long length) {
        this(seq, command, flags, offset, length, Unpooled.EMPTY_BUFFER);
    }

    /** The rule {@link Request} and {@link CatchUpRecord} share. */
    static void checkData(Command command, long length, ByteBuf data) {
        checkData(command, 0, length, data);
    }

    /** As {@link #checkData(Command, long, ByteBuf)}; with {@link LinkFormat#FLAG_COMMAND_ONLY} nothing carries data. */
    static void checkData(Command command, int flags, long length, ByteBuf data) {
        int bytes = data.readableBytes();
        if (!command.carriesData() || (flags & LinkFormat.FLAG_COMMAND_ONLY) != 0) {
            if (bytes != 0) {
                throw new IllegalArgumentException(command + " carries no data, got " + bytes + " bytes");
            }
        } else if (bytes != length) {
            throw new IllegalArgumentException("WRITE of length " + length + " carries " + bytes + " bytes of data");
        } else if (bytes > LinkFormat.MAX_DATA) {
            throw new IllegalArgumentException("WRITE of " + bytes + " bytes is over the limit of " + LinkFormat.MAX_DATA);
        }
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    @Override
    public MessageType type() {
        return MessageType.REQUEST;
    }

    @Override
    public ByteBuf content() {
        return ByteBufUtil.ensureAccessible(data);
    }

    @Override
    public Request copy() {
        return replace(data.copy());
    }

    @Override
    public Request duplicate() {
        return replace(data.duplicate());
    }

    @Override
    public Request retainedDuplicate() {
        return replace(data.retainedDuplicate());
    }

    @Override
    public Request replace(ByteBuf content) {
        return new Request(seq, command, flags, offset, length, content);
    }

    @Override
    public int refCnt() {
        return data.refCnt();
    }

    @Override
    public Request retain() {
        data.retain();
        return this;
    }

    @Override
    public Request retain(int increment) {
        data.retain(increment);
        return this;
    }

    @Override
    public Request touch() {
        data.touch();
        return this;
    }

    @Override
    public Request touch(Object hint) {
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
        return "Request[seq=" + seq + ", command=" + command + ", flags=0x" + Integer.toHexString(flags) + ", offset="
                + offset + ", length=" + length + ", data=" + data.readableBytes() + " bytes]";
    }
}
