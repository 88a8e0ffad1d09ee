package io.parityd.metrics;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Answers one metrics connection: {@code GET /metrics} (and HEAD) with the scrape, 404 for other
 * paths, 405 for other methods, 400 for what does not parse. The scrape is rendered by
 * {@code render}, off the event loop (the status snapshot it starts with may wait on the array),
 * and reading pauses until its answer is written, so one connection has at most one scrape
 * queued. Responses leave in request order because there is only ever one in flight; a client
 * that pipelines a second request meanwhile gets its first answer and the connection closed.
 */
final class ScrapeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final String TEXT = "text/plain; charset=utf-8";

    private final Supplier<CompletableFuture<String>> render;
    private final Runnable badRequest;
    private boolean busy;
    private boolean closeAfterAnswer;

    /**
     * @param render     starts a scrape on another thread and completes with its text
     * @param badRequest counts a connection closed for a request that did not parse
     */
    ScrapeHandler(Supplier<CompletableFuture<String>> render, Runnable badRequest) {
        this.render = render;
        this.badRequest = badRequest;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (busy) {
            closeAfterAnswer = true; // pipelined: answer what we have, then let the client reconnect
            return;
        }
        boolean head = request.method().equals(HttpMethod.HEAD);
        if (!request.decoderResult().isSuccess()) {
            badRequest.run();
            answer(ctx, HttpResponseStatus.BAD_REQUEST, TEXT, "parityd serves GET /metrics\n", false, false);
        } else if (!new QueryStringDecoder(request.uri()).path().equals("/metrics")) {
            answer(ctx, HttpResponseStatus.NOT_FOUND, TEXT, "parityd serves its metrics at /metrics\n",
                    HttpUtil.isKeepAlive(request), head);
        } else if (!head && !request.method().equals(HttpMethod.GET)) {
            answer(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, TEXT, "GET /metrics\n", HttpUtil.isKeepAlive(request),
                    false);
        } else {
            scrape(ctx, HttpUtil.isKeepAlive(request), head);
        }
    }

    private void scrape(ChannelHandlerContext ctx, boolean keepAlive, boolean head) {
        busy = true;
        ctx.channel().config().setAutoRead(false);
        render.get().whenComplete((text, failure) -> ctx.executor().execute(() -> {
            ctx.channel().config().setAutoRead(true);
            if (failure != null) {
                answer(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, TEXT, "the scrape failed: " + failure + "\n",
                        false, head);
            } else {
                answer(ctx, HttpResponseStatus.OK, CONTENT_TYPE, text, keepAlive, head);
            }
        }));
    }

    private void answer(ChannelHandlerContext ctx, HttpResponseStatus status, String type, String body,
                        boolean keepAlive, boolean head) {
        busy = false;
        boolean keep = keepAlive && !closeAfterAnswer;
        ByteBuf content = head ? Unpooled.EMPTY_BUFFER : ByteBufUtil.writeUtf8(ctx.alloc(), body);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, ByteBufUtil.utf8Bytes(body))
                .set(HttpHeaderNames.CONNECTION, keep ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        if (status.equals(HttpResponseStatus.METHOD_NOT_ALLOWED)) {
            response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
        }
        ChannelFuture written = ctx.writeAndFlush(response);
        if (!keep) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
