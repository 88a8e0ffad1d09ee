package io.parityd.protocol;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.parityd.protocol.HandshakeReply.Ack;
import io.parityd.protocol.Nbd.ClientFlag;
import io.parityd.protocol.Nbd.HandshakeFlag;
import io.parityd.protocol.Nbd.InfoType;
import io.parityd.protocol.Nbd.OptionReplyType;
import io.parityd.protocol.Nbd.OptionType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The server side of fixed newstyle negotiation (proto.md "Fixed newstyle negotiation", "Option
 * types"), one method per option. It greets, remembers what the client asked for (NO_ZEROES,
 * structured replies), answers options, and hands the connection to the transmission phase when
 * the client chooses an export.
 *
 * <p>Policy, where the spec leaves a choice:
 * <ul>
 *   <li>A client that does not set {@code NBD_FLAG_C_FIXED_NEWSTYLE} is served fixed newstyle anyway
 *       (the spec allows it; old clients only ever send EXPORT_NAME, which works the same).</li>
 *   <li>{@code NBD_INFO_BLOCK_SIZE} is sent on every successful INFO and GO, asked or not (the spec
 *       allows unrequested information). Clients that understand it learn our constraints; only a GO
 *       that asked for it counts as an agreement ({@link Session#blockSizesAgreed()}). We never send
 *       {@code NBD_REP_ERR_BLOCK_SIZE_REQD}: clients that do not ask get {@code EINVAL} on misaligned
 *       requests instead of no service.</li>
 *   <li>{@code NBD_OPT_STRUCTURED_REPLY} sent twice is acknowledged twice: it changes nothing the
 *       second time, so refusing it would only break a sloppy client.</li>
 *   <li>Metadata contexts, extended headers and unknown options get {@code NBD_REP_ERR_UNSUP}; the
 *       decoder has already skipped their data, so negotiation goes on. STARTTLS follows
 *       {@link NbdTls}: unsupported when TLS is off; acknowledged, then the TLS handshake, when on;
 *       {@code NBD_REP_ERR_INVALID} once TLS is up or when it carries data ({@link StartTls}).</li>
 *   <li>A client may send {@value #MAX_OPTIONS} options before it chooses an export, plus as many
 *       again per export its first {@code NBD_OPT_LIST} named (for an INFO round per export), as
 *       nbdkit allows. nbdkit grants the extra round on every LIST, which lets a LIST flood go on
 *       for ever; once is enough for what it is for. The option past the limit gets
 *       {@code NBD_REP_ERR_POLICY} and the connection is closed: the spec allows a hard disconnect
 *       when a client's behaviour amounts to denial of service.</li>
 *   <li>A connection the server will not serve (too many open, see
 *       {@link NbdServerPipeline#installRefusal}) is greeted and every option but ABORT is answered
 *       with {@code NBD_REP_ERR_POLICY} and the reason, which is how proto.md has a server tell a
 *       client it is unwelcome (clients such as libnbd show the reason for GO); the handshake's time
 *       limit closes it if the client never gives up.</li>
 * </ul>
 */
final class HandshakeHandler extends ChannelInboundHandlerAdapter {

    /** Options a client may send before it chooses an export, as nbdkit allows (MAX_NR_OPTIONS). */
    static final int MAX_OPTIONS = 32;

    private static final Logger LOG = LoggerFactory.getLogger(HandshakeHandler.class);

    private static final int HANDSHAKE_FLAGS = HandshakeFlag.FIXED_NEWSTYLE.code() | HandshakeFlag.NO_ZEROES.code();

    private final ExportCatalog catalog;
    private final TransmissionHandlerFactory factory;
    private final ConnectionLogs logs;
    private final StartTls startTls;
    /** Why this connection is refused, or null when it is served. */
    private final String refusal;
    private boolean greeted;
    private boolean closing;
    private boolean noZeroes;
    private boolean structuredReplies;
    /** Options this client may still send; {@link #MAX_OPTIONS} more once, after its first NBD_OPT_LIST. */
    private int optionsLeft = MAX_OPTIONS;
    private int optionsSent;
    private boolean listed;

    HandshakeHandler(ExportCatalog catalog, TransmissionHandlerFactory factory, ConnectionLogs logs) {
        this(catalog, factory, logs, null, NbdTls.OFF);
    }

    HandshakeHandler(ExportCatalog catalog, TransmissionHandlerFactory factory, ConnectionLogs logs, NbdTls tls) {
        this(catalog, factory, logs, null, tls);
    }

    HandshakeHandler(ExportCatalog catalog, TransmissionHandlerFactory factory, ConnectionLogs logs, String refusal) {
        this(catalog, factory, logs, refusal, NbdTls.OFF);
    }

    private HandshakeHandler(ExportCatalog catalog, TransmissionHandlerFactory factory, ConnectionLogs logs,
                             String refusal, NbdTls tls) {
        this.catalog = catalog;
        this.factory = factory;
        this.logs = logs;
        this.refusal = refusal;
        this.startTls = new StartTls(tls, logs);
    }

    /** Transmission flags for an export: HAS_FLAGS always, DF exactly when structured replies were negotiated. */
    static int transmissionFlags(ExportInfo export, boolean structuredReplies) {
        int flags = TransmissionFlag.HAS_FLAGS.bit();
        for (TransmissionFlag flag : export.flags()) {
            flags |= flag.bit();
        }
        // We send every read as one chunk, so DF is honoured whenever it may be set at all.
        flags = structuredReplies ? flags | TransmissionFlag.SEND_DF.bit() : flags & ~TransmissionFlag.SEND_DF.bit();
        if ((flags & TransmissionFlag.SEND_WRITE_ZEROES.bit()) == 0) {
            // Spec: FAST_ZERO MUST be clear when WRITE_ZEROES is.
            flags &= ~TransmissionFlag.SEND_FAST_ZERO.bit();
        }
        return flags;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // Installed on an already active channel (an embedded one, or added late): greet now.
        if (ctx.channel().isActive()) {
            greet(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        greet(ctx);
        ctx.fireChannelActive();
    }

    private void greet(ChannelHandlerContext ctx) {
        if (!greeted) {
            greeted = true;
            ctx.writeAndFlush(new HandshakeReply.Greeting(HANDSHAKE_FLAGS));
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ClientFlags flags) {
            onClientFlags(ctx, flags);
        } else if (msg instanceof OptionRequest option) {
            try {
                onOption(ctx, option);
            } finally {
                option.release();
            }
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void onClientFlags(ChannelHandlerContext ctx, ClientFlags flags) {
        noZeroes = flags.has(ClientFlag.NO_ZEROES);
        if (!flags.has(ClientFlag.FIXED_NEWSTYLE)) {
            LOG.debug("{}: client did not set FIXED_NEWSTYLE; serving fixed newstyle anyway", ctx.channel().remoteAddress());
        }
    }

    private void onOption(ChannelHandlerContext ctx, OptionRequest option) {
        if (closing || !ctx.channel().isActive()) {
            return; // already hanging up on this client; what it pipelined behind is moot
        }
        LOG.debug("{}: option {}", ctx.channel().remoteAddress(), option);
        optionsSent++;
        if (--optionsLeft < 0 && option.option() != OptionType.ABORT) {
            refuseTooManyOptions(ctx, option);
            return;
        }
        if (refusal != null && option.option() != OptionType.ABORT) {
            refuseConnection(ctx, option);
            return;
        }
        if (catalog.shuttingDown() && option.option() != OptionType.ABORT) {
            refuseForShutdown(ctx, option);
            return;
        }
        if (option.option() == OptionType.STARTTLS) {
            startTls.onStartTls(ctx, option, this::replyError, () -> hangUp(ctx));
            return;
        }
        if (startTls.refusedBeforeTls(ctx, option, this::replyError, () -> hangUp(ctx))) {
            return;
        }
        switch (option.option()) {
            case EXPORT_NAME -> onExportName(ctx, option);
            case ABORT -> onAbort(ctx, option);
            case LIST -> onList(ctx, option);
            case INFO -> onInfo(ctx, option);
            case GO -> onGo(ctx, option);
            case STRUCTURED_REPLY -> onStructuredReply(ctx, option);
            default -> onUnsupported(ctx, option);
        }
    }

    /**
     * ERR_SHUTDOWN for every option but ABORT (handled as usual) and EXPORT_NAME, whose answer has
     * no room for an error: a client that chose it gets the hard disconnect the spec prescribes for an
     * export the server will not serve.
     */
    private void refuseForShutdown(ChannelHandlerContext ctx, OptionRequest option) {
        if (option.option() == OptionType.EXPORT_NAME) {
            LOG.debug("{}: NBD_OPT_EXPORT_NAME while shutting down; closing", ctx.channel().remoteAddress());
            hangUp(ctx);
            return;
        }
        replyError(ctx, option, OptionReplyType.ERR_SHUTDOWN, "server is shutting down");
    }

    /** The option past the limit: ERR_POLICY if the option can take an error at all, then a hard disconnect. */
    private void refuseTooManyOptions(ChannelHandlerContext ctx, OptionRequest option) {
        logs.problems().log("{}: {} options without choosing an export (the limit is {}); closing",
                ctx.channel().remoteAddress(), optionsSent, optionsSent - 1);
        if (option.option() != OptionType.EXPORT_NAME) {
            ctx.writeAndFlush(new HandshakeReply.Error(option.code(), OptionReplyType.ERR_POLICY,
                    "too many options (" + (optionsSent - 1) + ") without choosing an export; closing"));
        }
        // Not waiting for the reply to leave: a client that floods options may well not be reading.
        hangUp(ctx);
    }

    /**
     * A connection the server will not serve: every option but ABORT is answered with ERR_POLICY and
     * the reason until the client gives up, as proto.md has a server do with a client it will not
     * serve; the handshake's time limit ends a client that never does.
     */
    private void refuseConnection(ChannelHandlerContext ctx, OptionRequest option) {
        if (option.option() == OptionType.EXPORT_NAME) {
            hangUp(ctx); // its answer has no room for an error
            return;
        }
        replyError(ctx, option, OptionReplyType.ERR_POLICY, refusal);
    }

    /** NBD_OPT_EXPORT_NAME cannot carry an error: an unknown export MUST end the session. */
    private void onExportName(ChannelHandlerContext ctx, OptionRequest option) {
        String name = option.data().toString(StandardCharsets.UTF_8);
        Optional<ExportInfo> found = catalog.find(name);
        if (found.isEmpty()) {
            logs.problems().log("{}: NBD_OPT_EXPORT_NAME names unknown export {}; closing, as the spec requires",
                    ctx.channel().remoteAddress(), ClientText.quote(name));
            hangUp(ctx);
            return;
        }
        ExportInfo export = found.get();
        int flags = transmissionFlags(export, structuredReplies);
        ctx.writeAndFlush(new HandshakeReply.ExportNameReply(export.size(), flags, !noZeroes));
        enterTransmission(ctx, new Session(export, structuredReplies, flags, false));
    }

    private void onAbort(ChannelHandlerContext ctx, OptionRequest option) {
        LOG.debug("{}: client aborted the handshake", ctx.channel().remoteAddress());
        closing = true;
        ctx.writeAndFlush(new Ack(option.code())).addListener(ChannelFutureListener.CLOSE);
    }

    private void onList(ChannelHandlerContext ctx, OptionRequest option) {
        if (option.data().isReadable()) {
            replyError(ctx, option, OptionReplyType.ERR_INVALID,
                    "NBD_OPT_LIST takes no data, got " + option.data().readableBytes() + " bytes");
            return;
        }
        List<ExportInfo> exports = catalog.list();
        for (ExportInfo export : exports) {
            ctx.write(new HandshakeReply.Server(option.code(), export.name(), export.description()));
        }
        ctx.writeAndFlush(new Ack(option.code()));
        if (!listed) {
            listed = true;
            optionsLeft += MAX_OPTIONS * exports.size();
        }
    }

    private void onInfo(ChannelHandlerContext ctx, OptionRequest option) {
        answerInfo(ctx, option);
    }

    /** Same answer as INFO; on success the connection enters transmission right behind the ACK. */
    private void onGo(ChannelHandlerContext ctx, OptionRequest option) {
        Session session = answerInfo(ctx, option);
        if (session != null) {
            enterTransmission(ctx, session);
        }
    }

    /** Answers INFO or GO; returns the session it described, or null when it replied with an error. */
    private Session answerInfo(ChannelHandlerContext ctx, OptionRequest option) {
        InfoRequest.Parsed parsed = InfoRequest.parse(option.data());
        if (!parsed.valid()) {
            replyError(ctx, option, OptionReplyType.ERR_INVALID, "malformed " + option.option() + ": " + parsed.problem());
            return null;
        }
        InfoRequest request = parsed.request();
        Optional<ExportInfo> found = catalog.find(request.name());
        if (found.isEmpty()) {
            replyError(ctx, option, OptionReplyType.ERR_UNKNOWN, "no export named " + ClientText.quote(request.name()));
            return null;
        }
        ExportInfo export = found.get();
        int flags = transmissionFlags(export, structuredReplies);
        int code = option.code();
        ctx.write(new HandshakeReply.InfoExport(code, export.size(), flags));
        if (request.wants(InfoType.NAME)) {
            ctx.write(new HandshakeReply.InfoName(code, export.name()));
        }
        if (request.wants(InfoType.DESCRIPTION)) {
            ctx.write(new HandshakeReply.InfoDescription(code, export.description()));
        }
        ctx.write(new HandshakeReply.InfoBlockSize(code, export.blockSizes()));
        ctx.writeAndFlush(new Ack(code));
        return new Session(export, structuredReplies, flags, request.wants(InfoType.BLOCK_SIZE));
    }

    private void onStructuredReply(ChannelHandlerContext ctx, OptionRequest option) {
        if (option.data().isReadable()) {
            replyError(ctx, option, OptionReplyType.ERR_INVALID,
                    "NBD_OPT_STRUCTURED_REPLY takes no data, got " + option.data().readableBytes() + " bytes");
            return;
        }
        structuredReplies = true;
        ctx.writeAndFlush(new Ack(option.code()));
    }

    private void onUnsupported(ChannelHandlerContext ctx, OptionRequest option) {
        String name = option.option() == OptionType.UNKNOWN ? "option" : "NBD_OPT_" + option.option();
        replyError(ctx, option, OptionReplyType.ERR_UNSUP,
                name + " (" + Integer.toUnsignedString(option.code()) + ") is not supported by this server");
    }

    private void replyError(ChannelHandlerContext ctx, OptionRequest option, OptionReplyType type, String message) {
        LOG.debug("{}: {} → {}: {}", ctx.channel().remoteAddress(), option, type, message);
        ctx.writeAndFlush(new HandshakeReply.Error(option.code(), type, message));
    }

    private void hangUp(ChannelHandlerContext ctx) {
        closing = true;
        ctx.close();
    }

    private void enterTransmission(ChannelHandlerContext ctx, Session session) {
        // One line per client at INFO: what a client negotiated is the first thing to know when
        // it misbehaves (the kernel's client, for one, never asks for structured replies).
        logs.sessions().log("{}: attached to export {} (structured replies: {}, block size constraints agreed: {}, flags 0x{},"
                        + " TLS: {})",
                ctx.channel().remoteAddress(), ClientText.quote(session.export().name()), session.structuredReplies() ? "yes" : "no",
                session.blockSizesAgreed() ? "yes" : "no", Integer.toHexString(session.transmissionFlags()),
                startTls.up() ? "yes" : "no");
        NbdServerPipeline.enterTransmission(ctx, session, factory, logs);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (startTls.up() && cause instanceof io.netty.handler.codec.DecoderException
                && cause.getCause() instanceof javax.net.ssl.SSLException) {
            // A client that is not speaking TLS, or one whose certificate was refused: its reason, no stack trace.
            logs.problems().log("{}: TLS failed: {}; closing", ctx.channel().remoteAddress(), StartTls.reason(cause));
        } else {
            logs.problems().log("{}: handshake failed; closing", ctx.channel().remoteAddress(), cause);
        }
        hangUp(ctx);
    }
}
