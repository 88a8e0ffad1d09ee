package io.parityd.metrics;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closes a metrics connection that does not get through a request in time. The clock starts when
 * the connection opens, or when the first byte of the next request arrives after a response, and
 * stops when that request's response has been written; between requests the idle timeout runs
 * instead. Netty's {@code ReadTimeoutHandler} and {@code IdleStateHandler} restart at every read,
 * so a client trickling a byte every few seconds would keep its connection for ever; this bounds
 * the whole request instead. First in the pipeline, so it sees raw bytes before the HTTP codec.
 */
final class RequestDeadline extends ChannelDuplexHandler {

    private final long requestNanos;
    private final long idleNanos;
    private final Runnable timedOut;
    private ScheduledFuture<?> timer;
    /** True between a response and the next request's first byte. */
    private boolean idle;

    /** @param timedOut counts a connection closed for being too slow */
    RequestDeadline(EndpointLimits limits, Runnable timedOut) {
        this.requestNanos = limits.requestTimeout().toNanos();
        this.idleNanos = limits.idleTimeout().toNanos();
        this.timedOut = timedOut;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        arm(ctx, false); // a new connection must send its request promptly, like any other
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (idle) {
            arm(ctx, false);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof LastHttpContent) {
            promise = promise.unvoid();
            promise.addListener(written -> {
                if (written.isSuccess() && ctx.channel().isActive()) {
                    arm(ctx, true);
                }
            });
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    /** Runs on the channel's event loop, as every method here does. */
    private void arm(ChannelHandlerContext ctx, boolean betweenRequests) {
        cancel();
        idle = betweenRequests;
        timer = ctx.executor().schedule(() -> {
            if (!betweenRequests) {
                timedOut.run(); // an idle keep-alive connection expiring is routine, not worth counting
            }
            ctx.close();
        }, betweenRequests ? idleNanos : requestNanos, TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
