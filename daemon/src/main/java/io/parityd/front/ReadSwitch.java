package io.parityd.front;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;

/**
 * Sits at the head of a transmission-phase pipeline and lets {@code read()} through only while
 * the {@link TransmissionHandler} says the connection may read. Turning {@code autoRead} off is
 * not enough on its own: Netty's {@code ByteToMessageDecoder} asks for one more read whenever a
 * read ended with a request still incomplete and {@code autoRead} is off, and that read could
 * bring in whole new requests while the controller has closed admission.
 *
 * <p>A read dropped here is not lost: when reading is allowed again the handler turns
 * {@code autoRead} back on, which issues a fresh read. Event loop only.
 */
final class ReadSwitch extends ChannelOutboundHandlerAdapter {

    private boolean allowed = true;

    void allow(boolean allowed) {
        this.allowed = allowed;
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (allowed) {
            ctx.read();
        }
    }
}
