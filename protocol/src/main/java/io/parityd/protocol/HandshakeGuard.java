package io.parityd.protocol;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;

/**
 * Heads a handshake pipeline and keeps one client from making the server hold its replies without
 * bound (issue 14, defect 1): while the channel is not writable, which in the handshake means the
 * client is not reading what it was sent, the connection reads nothing from its socket and the
 * {@link HandshakeDecoder} decodes no further option from what it already holds. When the
 * replies drain, both resume. Removed with the rest of the handshake; the transmission phase has
 * its own read switch.
 *
 * <p>Turning {@code autoRead} off alone would not do: {@code ByteToMessageDecoder} asks for one
 * more read whenever a read produced nothing and {@code autoRead} is off, so this handler also
 * drops {@code read()} calls while the channel is not writable. Event loop only.
 */
final class HandshakeGuard extends ChannelDuplexHandler {

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            ctx.read();
        }
        // Dropped otherwise: turning autoRead back on when the channel drains issues a fresh read.
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = ctx.channel().isWritable();
        ctx.channel().config().setAutoRead(writable);
        if (writable) {
            // Options that arrived while the replies were stuck wait in the decoder's buffer; an empty
            // read makes it decode them now rather than when the client next sends something.
            ctx.fireChannelRead(Unpooled.EMPTY_BUFFER);
        }
        ctx.fireChannelWritabilityChanged();
    }
}
