package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * One transmission-phase request, decoded whole. For {@link CommandType#WRITE} the content is
 * the complete payload (a retained slice of what arrived; never a partial one: block buffering);
 * for every other command it is empty. The receiver owns the reference and must release it.
 *
 * <p>{@code offset} is unsigned on the wire; values at or above 2^63 arrive negative here and
 * are out of range for every export. {@code length} is the unsigned 32-bit field widened.
 *
 * <p>{@code payloadDropped} is set when a WRITE was larger than the server accepts but small
 * enough to drain: its payload was read and thrown away so the stream stays in step, and the
 * request must be refused.
 */
public final class NbdRequest extends DefaultByteBufHolder {

    private final CommandType type;
    private final int typeCode;
    private final int flags;
    private final long cookie;
    private final long offset;
    private final long length;
    private final boolean payloadDropped;
    private final long reserved;

    public NbdRequest(int typeCode, int flags, long cookie, long offset, long length, ByteBuf payload,
                      boolean payloadDropped) {
        this(typeCode, flags, cookie, offset, length, payload, payloadDropped, 0);
    }

    /**
     * @param reserved bytes of {@link PayloadMemory} the decoder reserved for this request (its
     *                 payload, or its reply's data), which whoever answers it gives back
     */
    public NbdRequest(int typeCode, int flags, long cookie, long offset, long length, ByteBuf payload,
                      boolean payloadDropped, long reserved) {
        super(payload);
        this.reserved = reserved;
        this.type = CommandType.fromCode(typeCode);
        this.typeCode = typeCode;
        this.flags = flags;
        this.cookie = cookie;
        this.offset = offset;
        this.length = length;
        this.payloadDropped = payloadDropped;
    }

    /** A request without payload. */
    public NbdRequest(int typeCode, int flags, long cookie, long offset, long length) {
        this(typeCode, flags, cookie, offset, length, Unpooled.EMPTY_BUFFER, false);
    }

    public CommandType type() {
        return type;
    }

    public int typeCode() {
        return typeCode;
    }

    public int flags() {
        return flags;
    }

    public boolean has(CommandFlag flag) {
        return flag.in(flags);
    }

    public long cookie() {
        return cookie;
    }

    public long offset() {
        return offset;
    }

    public long length() {
        return length;
    }

    public boolean payloadDropped() {
        return payloadDropped;
    }

    /** Bytes of {@link PayloadMemory} reserved for this request: given back once it is answered. */
    public long reserved() {
        return reserved;
    }

    public ByteBuf payload() {
        return content();
    }

    @Override
    public NbdRequest replace(ByteBuf content) {
        return new NbdRequest(typeCode, flags, cookie, offset, length, content, payloadDropped, reserved);
    }

    @Override
    public NbdRequest retain() {
        super.retain();
        return this;
    }

    @Override
    public NbdRequest touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return type + (type == CommandType.UNKNOWN ? "(" + typeCode + ")" : "")
                + " cookie=" + Long.toHexString(cookie) + " offset=" + Long.toUnsignedString(offset)
                + " length=" + length + " flags=0x" + Integer.toHexString(flags);
    }
}
