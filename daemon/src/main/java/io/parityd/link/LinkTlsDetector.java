package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.util.List;

/**
 * First on a link a TLS node answers: looks at the peer's first bytes. A TLS record puts the
 * node's TLS layer in its place; anything else is a peer that dials without TLS, whose Hello the
 * {@link LinkHandshake} then reads in the clear only to refuse it by name. Either way it then
 * tells the handshake to begin ({@link #DECIDED}): a node that answers must not say its own
 * Hello before it knows whether the connection is TLS.
 */
final class LinkTlsDetector extends ByteToMessageDecoder {

    /** Fired once the detector knows, after it left the pipeline. */
    static final Object DECIDED = new Object() {
        @Override
        public String toString() {
            return "link TLS decided";
        }
    };

    /** A TLS record header is 5 bytes; a link frame header is longer. */
    private static final int SNIFF = 5;

    private final SslContext server;

    LinkTlsDetector(SslContext server) {
        this.server = server;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < SNIFF) {
            return;
        }
        if (SslHandler.isEncrypted(in, false)) {
            ctx.pipeline().replace(this, LinkPipeline.TLS, server.newHandler(ctx.alloc()));
        } else {
            ctx.channel().attr(LinkPipeline.PLAIN_PEER).set(Boolean.TRUE);
            ctx.pipeline().remove(this); // what it buffered goes on to the frame decoder
        }
        ctx.pipeline().fireUserEventTriggered(DECIDED);
    }
}
