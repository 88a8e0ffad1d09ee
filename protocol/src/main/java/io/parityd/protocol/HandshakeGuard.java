package io.parityd.protocol;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Heads a handshake pipeline and bounds what one client can hold (issue 14): its time and the
 * server's memory. Removed with the rest of the handshake; the transmission phase has its own
 * read switch.
 *
 * <ul>
 *   <li>Time: a connection still in the handshake when {@link HandshakeConfig#timeout()} has passed
 *       since it was accepted is closed, however busy it kept itself.</li>
 *   <li>Memory: while the channel is not writable, which in the handshake means the client is not
 *       reading what it was sent, the connection reads nothing from its socket and the
 *       {@link HandshakeDecoder} decodes no further option from what it holds. When the replies
 *       drain, both resume. Turning {@code autoRead} off alone would not do:
 *       {@code ByteToMessageDecoder} asks for one more read whenever a read produced nothing and
 *       {@code autoRead} is off, so {@code read()} calls are dropped too.</li>
 * </ul>
 * Event loop only.
 */
final class HandshakeGuard extends ChannelDuplexHandler {

    private final Duration timeout;
    private final ConnectionLogs logs;
    private ScheduledFuture<?> deadline;

    HandshakeGuard(HandshakeConfig config, ConnectionLogs logs) {
        this.timeout = config.timeout();
        this.logs = logs;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            startClock(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        startClock(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (deadline != null) {
            deadline.cancel(false);
        }
    }

    private void startClock(ChannelHandlerContext ctx) {
        if (deadline == null) {
            deadline = ctx.executor().schedule(() -> expire(ctx), timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private void expire(ChannelHandlerContext ctx) {
        if (!ctx.isRemoved() && ctx.channel().isActive()) {
            logs.problems().log("{}: handshake not finished within {} s; closing", ctx.channel().remoteAddress(),
                    timeout.toMillis() / 1000.0);
            ctx.close();
        }
    }

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
