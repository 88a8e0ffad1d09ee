package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import io.parityd.protocol.Nbd.ReplyFlag;
import io.parityd.protocol.Nbd.ReplyType;

import java.util.List;

/**
 * Frames {@link NbdReply} messages for the wire, in the form the session negotiated (proto.md
 * "Simple reply message", "Structured reply chunk message", "Structured reply types"). Read data
 * is never copied: the header goes out as its own small buffer, followed by the reply's data buffer
 * itself.
 *
 * <p>Simple mode (no {@code NBD_OPT_STRUCTURED_REPLY}): every reply is a simple reply; READ data
 * follows a zero error; an error carries only its errno (the message stays in our log).
 *
 * <p>Structured mode:
 * <ul>
 *   <li>READ → one {@code NBD_REPLY_TYPE_OFFSET_DATA} chunk with {@code NBD_REPLY_FLAG_DONE}
 *       (so DF is honoured trivially); a zero-length read, which has no data chunk to carry (OFFSET_DATA
 *       needs at least one byte), → {@code NBD_REPLY_TYPE_NONE} with DONE.</li>
 *   <li>Error → {@code NBD_REPLY_TYPE_ERROR} with DONE: errno, message length, UTF-8 message (cut to
 *       {@value Nbd#MAX_STRING_LENGTH} bytes), so the client's user sees why.</li>
 *   <li>Success without data → a simple reply. The spec allows a simple reply to anything but READ
 *       when it carries no payload; it is 4 bytes shorter than a NONE chunk, and nbdkit and qemu-nbd
 *       answer the same way.</li>
 * </ul>
 */
public final class ReplyEncoder extends MessageToMessageEncoder<NbdReply> {

    private final boolean structured;

    public ReplyEncoder(Session session) {
        this(session.structuredReplies());
    }

    public ReplyEncoder(boolean structuredReplies) {
        super(NbdReply.class);
        this.structured = structuredReplies;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, NbdReply reply, List<Object> out) {
        if (reply instanceof ReadReply read) {
            encodeRead(ctx, read, out);
        } else if (reply instanceof ErrorReply error) {
            encodeError(ctx, error, out);
        } else {
            out.add(simpleHeader(ctx, reply.cookie(), 0));
        }
    }

    /** The reply is released by our superclass after this returns, hence the retain on its data. */
    private void encodeRead(ChannelHandlerContext ctx, ReadReply read, List<Object> out) {
        ByteBuf data = read.content();
        int length = data.readableBytes();
        if (structured && length == 0) {
            out.add(chunkHeader(ctx, ReplyType.NONE, read.cookie(), 0, 0));
            return;
        }
        out.add(structured ? offsetDataHeader(ctx, read, length) : simpleHeader(ctx, read.cookie(), 0));
        if (length > 0) {
            out.add(data.retain());
        }
    }

    private static ByteBuf offsetDataHeader(ChannelHandlerContext ctx, ReadReply read, int length) {
        ByteBuf header = chunkHeader(ctx, ReplyType.OFFSET_DATA, read.cookie(), 8 + length, 8);
        header.writeLong(read.offset());
        return header;
    }

    private void encodeError(ChannelHandlerContext ctx, ErrorReply error, List<Object> out) {
        if (!structured) {
            out.add(simpleHeader(ctx, error.cookie(), error.error().code()));
            return;
        }
        byte[] message = WireString.bounded(error.message());
        int length = 4 + 2 + message.length;
        ByteBuf chunk = chunkHeader(ctx, ReplyType.ERROR, error.cookie(), length, length);
        chunk.writeInt(error.error().code());
        chunk.writeShort(message.length);
        chunk.writeBytes(message);
        out.add(chunk);
    }

    private static ByteBuf simpleHeader(ChannelHandlerContext ctx, long cookie, int error) {
        ByteBuf header = ctx.alloc().ioBuffer(Nbd.SIMPLE_REPLY_HEADER_LENGTH);
        header.writeInt(Nbd.SIMPLE_REPLY_MAGIC);
        header.writeInt(error);
        header.writeLong(cookie);
        return header;
    }

    /** A DONE chunk header with room for {@code extra} bytes of payload written by the caller. */
    private static ByteBuf chunkHeader(ChannelHandlerContext ctx, ReplyType type, long cookie, int length, int extra) {
        ByteBuf header = ctx.alloc().ioBuffer(Nbd.STRUCTURED_REPLY_HEADER_LENGTH + extra);
        header.writeInt(Nbd.STRUCTURED_REPLY_MAGIC);
        header.writeShort(ReplyFlag.DONE.code());
        header.writeShort(type.code());
        header.writeLong(cookie);
        header.writeInt(length);
        return header;
    }
}
