package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Turns link frames ({@link LinkFormat}) into {@link LinkMessage}s, each only once its body is
 * complete. Data of a {@link Request}, {@link Reply} or {@link CatchUpRecord} is a retained slice of
 * what arrived, never a copy; the receiver releases the message.
 *
 * <p>A broken stream (bad magic, another version, an unknown type, a body over
 * {@link LinkFormat#MAX_BODY}, a body that does not parse exactly) cannot be followed: the decoder
 * logs it once, fires a {@link LinkProtocolException} naming the problem, closes the channel and
 * ignores whatever else arrives. Header errors are caught on the header, before any body is awaited.
 */
public final class FrameDecoder extends ByteToMessageDecoder {

    private static final Logger LOG = LoggerFactory.getLogger(FrameDecoder.class);

    private enum State { HEADER, BODY, BROKEN }

    private State state = State.HEADER;
    private MessageType type;
    private int bodyLength;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HEADER -> decodeHeader(ctx, in, out);
            case BODY -> decodeBody(ctx, in, out);
            case BROKEN -> in.skipBytes(in.readableBytes());
        }
    }

    private void decodeHeader(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < LinkFormat.HEADER_LENGTH) {
            return;
        }
        int magic = in.readUnsignedShort();
        if (magic != LinkFormat.MAGIC) {
            fail(ctx, in, String.format("bad magic 0x%04x, expected 0x%04x (\"PD\"): not a parityd link",
                    magic, LinkFormat.MAGIC));
            return;
        }
        int version = in.readUnsignedByte();
        if (version != LinkFormat.VERSION) {
            fail(ctx, in, "link protocol version " + version + " is not supported (this node speaks "
                    + LinkFormat.VERSION + ")");
            return;
        }
        int code = in.readUnsignedByte();
        type = MessageType.find(code);
        if (type == null) {
            fail(ctx, in, "unknown message type " + code);
            return;
        }
        long length = in.readUnsignedInt();
        if (length > LinkFormat.MAX_BODY) {
            fail(ctx, in, type + " body length " + length + " is over the limit of " + LinkFormat.MAX_BODY);
            return;
        }
        bodyLength = (int) length;
        state = State.BODY;
        decodeBody(ctx, in, out);
    }

    private void decodeBody(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < bodyLength) {
            return;
        }
        ByteBuf body = in.readSlice(bodyLength);
        state = State.HEADER;
        try {
            out.add(BodyReader.read(type, body));
        } catch (LinkProtocolException e) {
            fail(ctx, in, e);
        }
    }

    private void fail(ChannelHandlerContext ctx, ByteBuf in, String why) {
        fail(ctx, in, new LinkProtocolException(why));
    }

    /** The stream cannot be followed any more: say why once, drop what is buffered, hang up. */
    private void fail(ChannelHandlerContext ctx, ByteBuf in, LinkProtocolException e) {
        LOG.warn("{}: link protocol violation, closing: {}", ctx.channel().remoteAddress(), e.getMessage());
        state = State.BROKEN;
        in.skipBytes(in.readableBytes());
        ctx.fireExceptionCaught(e);
        ctx.close();
    }
}
