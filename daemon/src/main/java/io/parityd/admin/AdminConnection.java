package io.parityd.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.PeerCredentials;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admin connection: checks who is calling before anything else, then runs each request line
 * on the admin executor, one after another, and writes each response as one line in request
 * order. A line longer than {@link AdminProtocol#MAX_REQUEST_BYTES} gets an error response and
 * the connection is closed (the stream can no longer be trusted to be framed as the client meant).
 */
final class AdminConnection extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(AdminConnection.class);

    /** Requests read ahead of their responses before reading pauses: one client cannot queue without bound. */
    private static final int MAX_PENDING = 8;

    private final AdminDispatcher dispatcher;
    private final ObjectMapper json;
    private final Executor executor;
    private final AdminAccess access;
    private final Path socket;

    // Event-loop state: the tail of this connection's request chain, and how many are queued.
    private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    private int pending;
    private boolean closing;

    AdminConnection(AdminDispatcher dispatcher, ObjectMapper json, Executor executor, AdminAccess access, Path socket) {
        this.dispatcher = dispatcher;
        this.json = json;
        this.executor = executor;
        this.access = access;
        this.socket = socket;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        PeerCredentials peer;
        try {
            peer = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials();
        } catch (IOException e) {
            log.warn("closing admin connection: cannot read the caller's credentials: {}", e.toString());
            closing = true;
            ctx.close();
            return;
        }
        if (!access.allows(peer.uid())) {
            log.warn("refused admin connection from uid {} (pid {}) on {}: {}", peer.uid(), peer.pid(), socket,
                    access.refusal(peer.uid(), socket));
            closing = true;
            ctx.writeAndFlush(encode(ctx, AdminProtocol.error(access.refusal(peer.uid(), socket))))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        String line;
        try {
            line = ((ByteBuf) msg).toString(StandardCharsets.UTF_8);
        } finally {
            ReferenceCountUtil.release(msg);
        }
        if (!closing) {
            enqueue(ctx, () -> dispatcher.handle(line), false);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (closing) {
            return;
        }
        if (cause instanceof TooLongFrameException) {
            log.warn("admin request longer than {} bytes; answering with an error and closing", AdminProtocol.MAX_REQUEST_BYTES);
            enqueue(ctx, () -> AdminProtocol.error("request longer than " + AdminProtocol.MAX_REQUEST_BYTES
                    + " bytes; a request is one JSON object on one line"), true);
        } else {
            log.debug("admin connection failed: {}", cause.toString());
            ctx.close();
        }
        closing = true;
    }

    /**
     * Chains {@code work} after this connection's earlier requests, on the executor; its response
     * is written (and the connection closed, if asked) when it is done.
     */
    private void enqueue(ChannelHandlerContext ctx, Supplier<ObjectNode> work, boolean closeAfter) {
        if (++pending >= MAX_PENDING) {
            ctx.channel().config().setAutoRead(false);
        }
        tail = tail.thenRunAsync(() -> respond(ctx, work, closeAfter), executor)
                .exceptionally(failure -> {
                    // The executor is gone (the server is stopping), or a bug: either way this
                    // connection cannot be answered any more, and the others are unaffected.
                    if (!(failure.getCause() instanceof RejectedExecutionException)) {
                        log.error("admin connection failed; closing it", failure);
                    }
                    ctx.close();
                    return null;
                });
    }

    private void respond(ChannelHandlerContext ctx, Supplier<ObjectNode> work, boolean closeAfter) {
        ObjectNode reply = work.get();
        var written = ctx.writeAndFlush(encode(ctx, reply));
        if (closeAfter) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
        ctx.executor().execute(() -> {
            if (--pending < MAX_PENDING && !closing) {
                ctx.channel().config().setAutoRead(true);
            }
        });
    }

    private ByteBuf encode(ChannelHandlerContext ctx, ObjectNode reply) {
        String text;
        try {
            text = json.writeValueAsString(reply);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a JSON tree: " + reply, e);
        }
        return ByteBufUtil.writeUtf8(ctx.alloc(), text + "\n");
    }
}
