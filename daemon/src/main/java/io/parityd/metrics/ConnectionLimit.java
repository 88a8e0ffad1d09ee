package io.parityd.metrics;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caps the connections one metrics endpoint holds open: one over the cap is closed as soon as it
 * is accepted, before it costs more than its socket. Shared by every connection of the endpoint.
 * Refusals are counted in a metric and logged at most once a minute, so a flood cannot flood
 * the log too.
 */
@ChannelHandler.Sharable
final class ConnectionLimit extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ConnectionLimit.class);
    private static final long LOG_EVERY_NANOS = 60_000_000_000L;

    private final int max;
    private final Runnable refused;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong refusedSinceLog = new AtomicLong();
    private final AtomicLong lastLog = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);

    /** @param refused counts a connection closed for being over the cap */
    ConnectionLimit(int max, Runnable refused) {
        this.max = max;
        this.refused = refused;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (open.incrementAndGet() > max) {
            refused.run();
            logRefusal(ctx);
            ctx.close();
            return;
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        open.decrementAndGet();
        ctx.fireChannelInactive();
    }

    /** Connections open now, refused ones included until they are closed. */
    int open() {
        return open.get();
    }

    private void logRefusal(ChannelHandlerContext ctx) {
        long count = refusedSinceLog.incrementAndGet();
        long now = System.nanoTime();
        long last = lastLog.get();
        if (now - last >= LOG_EVERY_NANOS && lastLog.compareAndSet(last, now)) {
            refusedSinceLog.addAndGet(-count);
            log.warn("metrics: {} connection(s) refused since the last report, the latest from {}: {} are open, the"
                    + " most allowed (slow or stalled clients hold them until their request deadline)",
                    count, ctx.channel().remoteAddress(), max);
        }
    }
}
