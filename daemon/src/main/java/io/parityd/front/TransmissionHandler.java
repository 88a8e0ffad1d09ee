package io.parityd.front;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.parityd.controller.Admission;
import io.parityd.controller.Controller;
import io.parityd.controller.RequestFailedException;
import io.parityd.protocol.ClientText;
import io.parityd.protocol.CommandFlag;
import io.parityd.protocol.CommandType;
import io.parityd.protocol.ConnectionLogs;
import io.parityd.protocol.DoneReply;
import io.parityd.protocol.ErrorReply;
import io.parityd.protocol.NbdError;
import io.parityd.protocol.NbdReply;
import io.parityd.protocol.NbdRequest;
import io.parityd.protocol.PayloadMemory;
import io.parityd.protocol.ReadReply;
import io.parityd.protocol.Refusal;
import io.parityd.protocol.RequestValidator;
import io.parityd.protocol.Session;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves one connection in the transmission phase: validates each request, hands the valid ones
 * to the controller and writes the reply when the controller is done, in whatever order they
 * finish (replies are matched by cookie). It only dispatches: no disk I/O happens here, and all
 * of its state is touched on the connection's event loop only.
 *
 * <p>A WRITE arrives here whole (the decoder block-buffers it) and its payload is held until the
 * controller has finished with it. A client that goes away leaves its complete requests to
 * finish; their replies are simply dropped.
 *
 * <p>Whether the connection reads from its socket is decided in one place,
 * {@link #shouldRead}: the controller's {@link Admission} is open, the connection is within its
 * {@link FrontLimits}, its replies are draining, and the client has not disconnected. Every
 * change to any of these re-evaluates all of them, so none can turn reading back on while
 * another still holds it off. Requests already read keep being handed over either way.
 */
final class TransmissionHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(TransmissionHandler.class);

    /** User event asking the connection to finish what it has and close: the server is stopping. */
    static final Object DRAIN = new Object() {
        @Override
        public String toString() {
            return "DRAIN";
        }
    };

    /** User event: the controller's admission may have changed; the server fires it on every connection. */
    static final Object ADMISSION_CHANGED = new Object() {
        @Override
        public String toString() {
            return "ADMISSION_CHANGED";
        }
    };

    static final String READ_SWITCH = "nbd-read-switch";

    private final Session session;
    private final Controller controller;
    private final Admission admission;
    private final FrontLimits limits;
    private final ReadSwitch readSwitch = new ReadSwitch();
    private final ConnectionLogs logs;

    private int inflightRequests;
    private final RequestObserver observer;
    private long inflightBytes;
    /** Shutdown: new requests get ESHUTDOWN, and the connection closes once nothing is in flight. */
    private boolean draining;
    /** NBD_CMD_DISC: the client sends nothing more; close once nothing is in flight. */
    private boolean disconnecting;
    /** Cleared when in-flight work reaches a limit, set again once it is back under half (hysteresis). */
    private boolean withinLimits = true;
    private final PayloadMemory memory;
    /** The decoder's next request waits for memory ({@link PayloadMemory.Wait}). */
    private boolean waitingForMemory;

    TransmissionHandler(Session session, Controller controller, FrontLimits limits) {
        this(session, controller, limits, RequestObserver.NONE);
    }

    TransmissionHandler(Session session, Controller controller, FrontLimits limits, RequestObserver observer) {
        this(session, controller, limits, observer, PayloadMemory.UNLIMITED);
    }

    /** @param memory where the decoder reserved each request's memory: given back here once it is answered */
    TransmissionHandler(Session session, Controller controller, FrontLimits limits, RequestObserver observer,
                        PayloadMemory memory) {
        this(session, controller, limits, observer, memory, ConnectionLogs.create());
    }

    /** As the others, logging refusals and detaches through {@code logs}: the server's, shared by its connections. */
    TransmissionHandler(Session session, Controller controller, FrontLimits limits, RequestObserver observer,
                        PayloadMemory memory, ConnectionLogs logs) {
        this.memory = memory;
        this.logs = logs;
        this.observer = observer;
        this.session = session;
        this.controller = controller;
        this.admission = controller.admission();
        this.limits = limits;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        observer.connected();
        ctx.pipeline().addFirst(READ_SWITCH, readSwitch);
        // Admission may already be closed when the handshake ends: do not read a single request then.
        applyReading(ctx, true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof NbdRequest request) {
            dispatch(ctx, request);
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    /** Takes ownership of {@code r}: every path below releases it exactly once. */
    private void dispatch(ChannelHandlerContext ctx, NbdRequest r) {
        if (disconnecting) {
            // The spec forbids sending after DISC; such bytes are ignored, not answered.
            log.debug("ignoring {} from {} after NBD_CMD_DISC", r, ctx.channel().remoteAddress());
            free(r);
            return;
        }
        Refusal refusal = RequestValidator.validate(r, session);
        if (refusal != null) {
            refuse(ctx, r, refusal);
            return;
        }
        if (draining) {
            observer.refused(r.type(), NbdError.ESHUTDOWN);
            reply(ctx, new ErrorReply(r.cookie(), NbdError.ESHUTDOWN, "parityd is shutting down"));
            free(r);
            return;
        }
        switch (r.type()) {
            case READ -> read(ctx, r);
            case WRITE -> write(ctx, r);
            case FLUSH -> flush(ctx, r);
            case TRIM -> trim(ctx, r);
            case WRITE_ZEROES -> writeZeroes(ctx, r);
            case DISC -> disconnect(ctx, r);
            case CACHE -> cache(ctx, r);
            default -> refuse(ctx, r, new Refusal(NbdError.EINVAL, r.type() + " is not supported"));
        }
    }

    private void refuse(ChannelHandlerContext ctx, NbdRequest r, Refusal refusal) {
        logs.refusals().log("refused {} from {}: {} ({})", r, ctx.channel().remoteAddress(), refusal.reason(),
                refusal.error());
        observer.refused(r.type(), refusal.error());
        reply(ctx, new ErrorReply(r.cookie(), refusal.error(), refusal.reason()));
        free(r);
    }

    /** A request is done with: its buffer, and the memory the decoder reserved for it, go. */
    private void free(NbdRequest r) {
        long reserved = r.reserved();
        r.release();
        memory.release(reserved);
    }

    private void read(ChannelHandlerContext ctx, NbdRequest r) {
        long cookie = r.cookie();
        long offset = r.offset();
        int length = (int) r.length();
        long reserved = r.reserved(); // for the reply's data: given back once it is on its way
        r.release();
        if (length == 0) {
            reply(ctx, new ReadReply(cookie, offset, Unpooled.EMPTY_BUFFER));
            memory.release(reserved);
            return;
        }
        begin(ctx, length);
        long started = System.nanoTime();
        observer.started(CommandType.READ, length);
        // The controller's buffer becomes the reply's: in HA mode the primary's answer as it came
        // off the link, sent on without a copy. Owner from here: the ReadReply, whose encoder
        // releases it once written; onLoop releases it if the event loop is gone first.
        controller.read(offset, length, ctx.alloc()).whenComplete((data, failure) -> onLoop(ctx, data, () -> {
            NbdError error = null;
            if (failure == null) {
                reply(ctx, new ReadReply(cookie, offset, data));
            } else {
                error = fail(ctx, cookie, "READ", failure);
            }
            observer.completed(CommandType.READ, error == null ? length : 0, System.nanoTime() - started, error);
            memory.release(reserved);
            end(ctx, length);
        }));
    }

    private void write(ChannelHandlerContext ctx, NbdRequest r) {
        ByteBuf payload = r.payload();
        int length = payload.readableBytes();
        if (length == 0) {
            reply(ctx, new DoneReply(r.cookie()));
            free(r);
            return;
        }
        // r keeps the payload until the controller is done; a controller that needs it longer retains it.
        complete(ctx, r, length, controller.write(r.offset(), payload, r.has(CommandFlag.FUA)));
    }

    private void flush(ChannelHandlerContext ctx, NbdRequest r) {
        complete(ctx, r, 0, controller.flush());
    }

    private void trim(ChannelHandlerContext ctx, NbdRequest r) {
        if (r.length() == 0) {
            reply(ctx, new DoneReply(r.cookie()));
            free(r);
            return;
        }
        complete(ctx, r, 0, controller.trim(r.offset(), r.length(), r.has(CommandFlag.FUA)));
    }

    private void writeZeroes(ChannelHandlerContext ctx, NbdRequest r) {
        if (r.length() == 0) {
            reply(ctx, new DoneReply(r.cookie()));
            free(r);
            return;
        }
        boolean mayDeallocate = !r.has(CommandFlag.NO_HOLE);
        complete(ctx, r, 0, controller.writeZeroes(r.offset(), r.length(), mayDeallocate,
                r.has(CommandFlag.FAST_ZERO), r.has(CommandFlag.FUA)));
    }

    /**
     * A prefetch hint, answered at once: parityd has no cache of its own, and a read into nothing
     * would only warm file members' page cache at the price of a read now (nbdkit's default, too,
     * for a plugin without a cache callback, is to do nothing).
     */
    private void cache(ChannelHandlerContext ctx, NbdRequest r) {
        observer.started(CommandType.CACHE, r.length());
        reply(ctx, new DoneReply(r.cookie()));
        observer.completed(CommandType.CACHE, 0, 0, null);
        free(r);
    }

    private void disconnect(ChannelHandlerContext ctx, NbdRequest r) {
        log.debug("{} sent NBD_CMD_DISC with {} requests in flight", ctx.channel().remoteAddress(), inflightRequests);
        free(r);
        disconnecting = true;
        applyReading(ctx, false);
        closeIfIdle(ctx);
    }

    /** Holds {@code r} (and its payload) until the controller is done, then replies and releases it. */
    private void complete(ChannelHandlerContext ctx, NbdRequest r, int bytes, CompletableFuture<Void> done) {
        begin(ctx, bytes);
        long started = System.nanoTime();
        CommandType type = r.type();
        observer.started(type, r.length());
        done.whenComplete((ok, failure) -> onLoop(ctx, r, () -> {
            NbdError error = null;
            if (failure == null) {
                reply(ctx, new DoneReply(r.cookie()));
            } else {
                error = fail(ctx, r.cookie(), r.type().name(), failure);
            }
            observer.completed(type, error == null ? bytes : 0, System.nanoTime() - started, error);
            free(r);
            end(ctx, bytes); // last: it may close the connection, which must come after this reply
        }));
    }

    /** Runs {@code task} on the connection's event loop; if that loop is gone, just frees {@code held}. */
    private static void onLoop(ChannelHandlerContext ctx, Object held, Runnable task) {
        try {
            ctx.executor().execute(task);
        } catch (RejectedExecutionException e) {
            ReferenceCountUtil.release(held);
        }
    }

    private NbdError fail(ChannelHandlerContext ctx, long cookie, String command, Throwable failure) {
        io.parityd.controller.FatalErrors.haltOnOutOfMemory(failure);
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        NbdError error = errorFor(cause);
        if (!(cause instanceof RequestFailedException)) {
            log.warn("{} from {} failed unexpectedly", command, ctx.channel().remoteAddress(), cause);
        }
        reply(ctx, new ErrorReply(cookie, error, command + " failed: " + cause.getMessage()));
        return error;
    }

    static NbdError errorFor(Throwable cause) {
        if (cause instanceof RequestFailedException f) {
            return switch (f.reason()) {
                case IO_ERROR -> NbdError.EIO;
                case NO_SPACE -> NbdError.ENOSPC;
                case NOT_FAST -> NbdError.ENOTSUP;
                case SHUTTING_DOWN -> NbdError.ESHUTDOWN;
            };
        }
        return NbdError.EIO;
    }

    private void reply(ChannelHandlerContext ctx, NbdReply reply) {
        ctx.writeAndFlush(reply, ctx.voidPromise());
    }

    private void begin(ChannelHandlerContext ctx, long bytes) {
        inflightRequests++;
        inflightBytes += bytes;
        if (withinLimits && (inflightBytes >= limits.maxInflightBytes() || inflightRequests >= limits.maxInflightRequests())) {
            withinLimits = false;
            applyReading(ctx, false);
        }
    }

    private void end(ChannelHandlerContext ctx, long bytes) {
        inflightRequests--;
        inflightBytes -= bytes;
        if (!withinLimits && inflightBytes <= limits.maxInflightBytes() / 2 && inflightRequests <= limits.maxInflightRequests() / 2) {
            withinLimits = true;
            applyReading(ctx, false);
        }
        closeIfIdle(ctx);
    }

    /** The one decision on reading from this connection's socket. */
    private boolean shouldRead(ChannelHandlerContext ctx) {
        return admission.open() && withinLimits && ctx.channel().isWritable() && !disconnecting && !waitingForMemory;
    }

    /**
     * Makes the channel read exactly when {@link #shouldRead} says so: {@code autoRead} for
     * Netty's own reads, the {@link ReadSwitch} for a decoder's explicit ones. With {@code force},
     * applies the decision even if {@code autoRead} already matches it (the switch may not).
     */
    private void applyReading(ChannelHandlerContext ctx, boolean force) {
        boolean read = shouldRead(ctx);
        if (!force && read == ctx.channel().config().isAutoRead()) {
            return;
        }
        // Allow before turning autoRead on, which issues a read through the switch; block after turning it off.
        if (read) {
            readSwitch.allow(true);
            ctx.channel().config().setAutoRead(true);
        } else {
            ctx.channel().config().setAutoRead(false);
            readSwitch.allow(false);
        }
    }

    private void closeIfIdle(ChannelHandlerContext ctx) {
        if ((draining || disconnecting) && inflightRequests == 0 && ctx.channel().isActive()) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == DRAIN) {
            draining = true;
            closeIfIdle(ctx);
        } else if (evt == ADMISSION_CHANGED) {
            applyReading(ctx, false);
        } else if (evt instanceof PayloadMemory.Wait wait) {
            waitingForMemory = wait == PayloadMemory.Wait.WAITING;
            applyReading(ctx, false);
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // A client that stops reading its replies must not make us buffer them without bound.
        applyReading(ctx, false);
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        observer.disconnected();
        logs.sessions().log("{}: detached from export {} ({})", ctx.channel().remoteAddress(),
                ClientText.quote(session.export().name()),
                disconnecting ? "NBD_CMD_DISC" : draining ? "server stopping" : "connection closed without NBD_CMD_DISC");
        if (inflightRequests > 0) {
            logs.sessions().log("{} went away with {} requests in flight; they complete, their replies are dropped",
                    ctx.channel().remoteAddress(), inflightRequests);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        io.parityd.controller.FatalErrors.haltOnOutOfMemory(cause); // a payload buffer the decoder could not get
        if (cause instanceof IOException) {
            log.debug("connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        } else {
            log.warn("closing connection from {}: {}", ctx.channel().remoteAddress(), cause.toString());
        }
        ctx.close();
    }
}
