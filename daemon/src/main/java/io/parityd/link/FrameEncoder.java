package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.util.List;

/**
 * Writes {@link LinkMessage}s as link frames ({@link LinkFormat}). Data is never copied: the header
 * and fields go out as one small buffer, followed by the message's data buffer itself, which the
 * channel releases once written.
 */
public final class FrameEncoder extends MessageToMessageEncoder<LinkMessage> {

    /** Room for the header and the fields of every type but Hello, which grows the buffer once. */
    private static final int FIELDS_ESTIMATE = LinkFormat.HEADER_LENGTH + 64;

    public FrameEncoder() {
        super(LinkMessage.class);
    }

    /** Our superclass releases the message after this returns, hence the retain on its data. */
    @Override
    protected void encode(ChannelHandlerContext ctx, LinkMessage message, List<Object> out) {
        ByteBuf data = message instanceof ByteBufHolder holder ? holder.content() : null;
        int dataBytes = data == null ? 0 : data.readableBytes();
        ByteBuf frame = ctx.alloc().ioBuffer(FIELDS_ESTIMATE);
        try {
            frame.writeShort(LinkFormat.MAGIC);
            frame.writeByte(LinkFormat.VERSION);
            frame.writeByte(message.type().code());
            frame.writeInt(0); // body length, once the fields are written
            BodyWriter.write(message, frame);
            long bodyLength = (long) frame.readableBytes() - LinkFormat.HEADER_LENGTH + dataBytes;
            if (bodyLength > LinkFormat.MAX_BODY) {
                // The records bound every field, so only a bug gets here; the peer would hang up on it.
                throw new EncoderException(message.type() + " body of " + bodyLength + " bytes is over the limit of "
                        + LinkFormat.MAX_BODY);
            }
            frame.setInt(LinkFormat.LENGTH_OFFSET, (int) bodyLength);
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
        out.add(frame);
        if (dataBytes > 0) {
            out.add(data.retain());
        }
    }
}
