package io.parityd.link;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.ArrayList;
import java.util.List;

/** Sits where a link's caller's handler would: records what gets past the handshake. */
final class LinkRecorder extends ChannelInboundHandlerAdapter {
    final List<Object> events = new ArrayList<>();
    final List<Object> messages = new ArrayList<>();
    final List<Throwable> errors = new ArrayList<>();

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        events.add(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        messages.add(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        errors.add(cause);
    }
}
