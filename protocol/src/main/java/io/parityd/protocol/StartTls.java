package io.parityd.protocol;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import io.parityd.protocol.HandshakeReply.Ack;
import io.parityd.protocol.Nbd.OptionReplyType;
import io.parityd.protocol.Nbd.OptionType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS part of one connection's handshake (proto.md "TLS support"), for
 * {@link HandshakeHandler}: STARTTLS as {@link NbdTls} says, and the FORCEDTLS refusals before
 * TLS is up. STARTTLS is acknowledged in the clear, then TLS takes over the connection and option
 * haggling goes on inside it (no new greeting, no client flags). Bytes a client sent behind
 * STARTTLS before the TLS handshake end the connection: they came in the clear and must not be
 * taken as if they came through TLS (the STARTTLS injection attacks on SMTP and IMAP).
 */
final class StartTls {

    /** How HandshakeHandler answers an option with an error. */
    @FunctionalInterface
    interface ErrorReply {
        void send(ChannelHandlerContext ctx, OptionRequest option, OptionReplyType type, String message);
    }

    private static final Logger LOG = LoggerFactory.getLogger(StartTls.class);

    private final NbdTls tls;
    private final ConnectionLogs logs;
    /** STARTTLS was acknowledged: the rest of this connection goes through TLS. */
    private boolean up;

    StartTls(NbdTls tls, ConnectionLogs logs) {
        this.tls = tls;
        this.logs = logs;
    }

    boolean up() {
        return up;
    }

    /**
     * FORCEDTLS before TLS is up: ERR_TLS_REQD for every option but ABORT; EXPORT_NAME, whose
     * answer has no room for it, a hard disconnect. True if it answered {@code option}.
     */
    boolean refusedBeforeTls(ChannelHandlerContext ctx, OptionRequest option, ErrorReply error, Runnable hangUp) {
        if (tls.mode() != NbdTls.Mode.REQUIRE || up || option.option() == OptionType.ABORT) {
            return false;
        }
        if (option.option() == OptionType.EXPORT_NAME) {
            logs.problems().log("{}: NBD_OPT_EXPORT_NAME without TLS, which this server requires; closing",
                    ctx.channel().remoteAddress());
            hangUp.run();
            return true;
        }
        error.send(ctx, option, OptionReplyType.ERR_TLS_REQD,
                "this server requires TLS: send NBD_OPT_STARTTLS first (libnbd: an nbds:// URI)");
        return true;
    }

    /** NBD_OPT_STARTTLS. */
    void onStartTls(ChannelHandlerContext ctx, OptionRequest option, ErrorReply error, Runnable hangUp) {
        if (!tls.offered()) {
            error.send(ctx, option, OptionReplyType.ERR_UNSUP, "NBD_OPT_STARTTLS: this server does not offer TLS");
            return;
        }
        if (up) {
            error.send(ctx, option, OptionReplyType.ERR_INVALID, "NBD_OPT_STARTTLS: TLS is already up");
            return;
        }
        if (option.data().isReadable()) {
            error.send(ctx, option, OptionReplyType.ERR_INVALID,
                    "NBD_OPT_STARTTLS takes no data, got " + option.data().readableBytes() + " bytes");
            return;
        }
        ctx.writeAndFlush(new Ack(option.code()));
        int early = NbdServerPipeline.bufferedHandshakeBytes(ctx.pipeline());
        if (early > 0) {
            logs.problems().log("{}: {} bytes sent in the clear behind NBD_OPT_STARTTLS, before the TLS handshake;"
                    + " closing", ctx.channel().remoteAddress(), early);
            hangUp.run();
            return;
        }
        up = true;
        // The ACK is already in the channel's outbound buffer in the clear; from here on every byte
        // goes through TLS, both ways.
        SslHandler ssl = tls.context().newHandler(ctx.alloc());
        ctx.pipeline().addFirst(NbdServerPipeline.TLS, ssl);
        ssl.handshakeFuture().addListener(done -> {
            if (done.isSuccess()) {
                LOG.debug("{}: TLS is up ({}, {})", ctx.channel().remoteAddress(), ssl.engine().getSession().getProtocol(),
                        ssl.engine().getSession().getCipherSuite());
            } else {
                logs.problems().log("{}: TLS handshake failed: {}; closing", ctx.channel().remoteAddress(),
                        reason(done.cause()));
                hangUp.run();
            }
        });
    }

    /** The innermost cause's message: what went wrong, without the wrapping. */
    static String reason(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.toString() : root.getMessage();
    }
}
