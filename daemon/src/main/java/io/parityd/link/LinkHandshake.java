package io.parityd.link;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.MessageDigest;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Authenticates a link before anything else crosses it. Both sides run the same steps:
 * <ol>
 *   <li>When the channel is active, send our {@link Hello}, with a nonce fresh for this connection.</li>
 *   <li>On the peer's Hello: refuse a peer of another array; refuse a peer that is this very node
 *       (same kind, node id, boot id and pid: a link to ourselves, or our own Hello reflected from a
 *       second connection); refuse what the caller's {@link HelloCheck} refuses; otherwise send
 *       {@link Auth} with {@code HMAC-SHA256(secret, "parityd-link-2" || ourSide || ourHello ||
 *       peerHello)}, where {@code ourSide} says whether we dialled or answered ({@link LinkSide}).</li>
 *   <li>On the peer's Auth: check it equals {@code HMAC-SHA256(secret, "parityd-link-2" ||
 *       otherSide || peerHello || ourHello)} in constant time; then leave the pipeline and fire
 *       {@link LinkEstablished}.</li>
 * </ol>
 * Each Hello enters the MAC as its exact body ({@link Hello#canonicalBytes}), so both nonces and
 * every field (the sender's kind and node id among them) are authenticated, and an Auth is worth
 * nothing on another connection. The side binds the direction: a relay that connects to two
 * nodes and hands each the other's HELLO and AUTH (both answered, so each expects an AUTH from a
 * node that dialled) fails on both.
 *
 * <p>A refusal goes to the peer as a {@link Refuse} and the channel closes. A Refuse from the peer
 * fires {@link LinkRefused} and closes. Any other message before the end, a second Hello, or an Auth
 * before the Hello is a protocol error that closes the channel; so does a handshake that has not
 * finished within the timeout. Each of these is logged once, here.
 */
public final class LinkHandshake extends ChannelInboundHandlerAdapter {

    static final String AUTH_FAILED =
            "authentication failed: the peer's shared secret differs (check --secret-file on both)";

    private static final Logger LOG = LoggerFactory.getLogger(LinkHandshake.class);

    private final Hello ours;
    private final LinkSide side;
    private final byte[] ourBytes;
    private final LinkSecret secret;
    private final HelloCheck check;
    private final Duration timeout;

    private final boolean tls;
    /** An answering TLS end says nothing before it knows whether the peer speaks TLS. */
    private boolean waitForTls;
    private boolean started;
    /** Set once we refused or were refused: what still arrives is dropped. */
    private boolean closing;
    private Hello peer;
    private byte[] peerBytes;
    private ScheduledFuture<?> deadline;

    /**
     * @param side    whether this end dialled the connection or answered it
     * @param ours    who we are; its nonce is replaced by a fresh one, so one Hello may serve many connections
     * @param timeout how long the peer has to complete the handshake
     */
    public LinkHandshake(LinkSide side, Hello ours, LinkSecret secret, HelloCheck check, Duration timeout) {
        this(side, ours, secret, check, timeout, false);
    }

    /**
     * @param tls the link is under TLS ({@link LinkTls}): an answering end waits for
     *            {@link LinkTlsDetector#DECIDED} before its Hello, and a peer that came without
     *            TLS is refused by name
     */
    public LinkHandshake(LinkSide side, Hello ours, LinkSecret secret, HelloCheck check, Duration timeout, boolean tls) {
        this.side = Objects.requireNonNull(side, "side");
        this.ours = ours.withFreshNonce();
        this.ourBytes = Hello.canonicalBytes(this.ours);
        this.secret = Objects.requireNonNull(secret, "secret");
        this.check = Objects.requireNonNull(check, "check");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("handshake timeout must be positive: " + timeout);
        }
        this.timeout = timeout;
        this.tls = tls;
        this.waitForTls = tls && side == LinkSide.ANSWERS;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // Installed on a channel that is already active (an embedded one, or added late): start now.
        if (ctx.channel().isActive()) {
            start(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelDeadline();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelDeadline();
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt == LinkTlsDetector.DECIDED) {
            waitForTls = false;
            start(ctx);
            return;
        }
        if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent done && !done.isSuccess()) {
            Throwable root = done.cause();
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            LOG.warn("{}: link TLS handshake failed: {} (both ends need --link-tls-certificates with certificates"
                    + " of the same CA)", ctx.channel().remoteAddress(), root.getMessage() == null ? root : root.getMessage());
            closing = true;
            cancelDeadline();
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    private void start(ChannelHandlerContext ctx) {
        if (started || waitForTls) {
            return;
        }
        started = true;
        deadline = ctx.executor().schedule(() -> onTimeout(ctx), timeout.toNanos(), TimeUnit.NANOSECONDS);
        ctx.writeAndFlush(ours).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (closing) {
                return;
            }
            if (msg instanceof Hello hello) {
                onHello(ctx, hello);
            } else if (msg instanceof Auth auth) {
                onAuth(ctx, auth);
            } else if (msg instanceof Refuse refuse) {
                onRefuse(ctx, refuse);
            } else {
                protocolError(ctx, "a " + typeOf(msg) + " before the handshake finished");
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHello(ChannelHandlerContext ctx, Hello hello) {
        if (peer != null) {
            protocolError(ctx, "a second HELLO");
            return;
        }
        peer = hello;
        peerBytes = Hello.canonicalBytes(hello);
        String refusal = refusalOf(ctx, hello);
        if (refusal != null) {
            refuse(ctx, refusal);
            return;
        }
        ctx.writeAndFlush(new Auth(secret.mac(LinkFormat.MAC_LABEL, side.tag(), ourBytes, peerBytes)))
                .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    /** The array UUID of a front that serves whatever array its controllers belong to. */
    public static final java.util.UUID ANY_ARRAY = new java.util.UUID(0, 0);

    /** Why we will not link with the peer that sent {@code hello}, or null. */
    private String refusalOf(ChannelHandlerContext ctx, Hello hello) {
        // A front that was not told its array sends the nil UUID: it learns the array from the
        // controllers and holds the second to the first (HelloCheck); a controller never does.
        boolean frontLearning = (hello.kind() == NodeKind.FRONT && hello.arrayUuid().equals(ANY_ARRAY))
                || (ours.kind() == NodeKind.FRONT && ours.arrayUuid().equals(ANY_ARRAY));
        if (!frontLearning && !hello.arrayUuid().equals(ours.arrayUuid())) {
            return "peer " + hello.nodeId() + " belongs to array " + hello.arrayUuid() + ", not " + ours.arrayUuid();
        }
        if (hello.kind() == ours.kind() && hello.nodeId().equals(ours.nodeId()) && hello.bootId().equals(ours.bootId())
                && hello.pid() == ours.pid()) {
            return "peer claims to be this very node (" + ours.kind() + " " + ours.nodeId() + ", pid " + ours.pid()
                    + "): a link to ourselves, or our own HELLO reflected";
        }
        if (tls && Boolean.TRUE.equals(ctx.channel().attr(LinkPipeline.PLAIN_PEER).get())) {
            return hello.kind().toString().toLowerCase(java.util.Locale.ROOT) + " " + hello.nodeId()
                    + " linked without TLS, and this " + ours.kind().toString().toLowerCase(java.util.Locale.ROOT) + " "
                    + ours.nodeId() + " requires it: give every node --link-tls-certificates";
        }
        try {
            return check.check(hello);
        } catch (RuntimeException e) {
            LOG.warn("hello check failed on {}", hello, e);
            return "could not check the peer's HELLO: " + e;
        }
    }

    private void onAuth(ChannelHandlerContext ctx, Auth auth) {
        if (peer == null) {
            protocolError(ctx, "an AUTH before the peer's HELLO");
            return;
        }
        byte[] expected = secret.mac(LinkFormat.MAC_LABEL, side.other().tag(), peerBytes, ourBytes);
        if (!MessageDigest.isEqual(expected, auth.macBytes())) {
            refuse(ctx, AUTH_FAILED);
            return;
        }
        cancelDeadline();
        LOG.debug("{}: link established with {} {}", ctx.channel().remoteAddress(), peer.kind(), peer.nodeId());
        ctx.pipeline().remove(this);
        // Fired from our context after the removal: it goes on to the handlers after us, which now
        // receive every message that follows.
        ctx.fireUserEventTriggered(new LinkEstablished(peer));
    }

    private void onRefuse(ChannelHandlerContext ctx, Refuse refuse) {
        LOG.warn("{}: peer {} refused the link: {}", ctx.channel().remoteAddress(),
                peer == null ? "(no HELLO yet)" : peer.nodeId(), refuse.reason());
        closing = true;
        cancelDeadline();
        ctx.fireUserEventTriggered(new LinkRefused(refuse.reason()));
        ctx.close();
    }

    private void refuse(ChannelHandlerContext ctx, String reason) {
        LOG.warn("{}: refusing the link: {}", ctx.channel().remoteAddress(), reason);
        closing = true;
        cancelDeadline();
        ctx.writeAndFlush(new Refuse(LinkStrings.bounded(reason))).addListener(ChannelFutureListener.CLOSE);
    }

    /** Told to the peer too: whoever broke the protocol is the one who needs to know. */
    private void protocolError(ChannelHandlerContext ctx, String what) {
        refuse(ctx, "link protocol error: " + what);
    }

    private void onTimeout(ChannelHandlerContext ctx) {
        if (closing || !ctx.channel().isOpen()) {
            return;
        }
        closing = true;
        LOG.warn("{}: link handshake not finished within {} ms ({}); closing", ctx.channel().remoteAddress(),
                timeout.toMillis(), peer == null ? "no HELLO from the peer" : "no AUTH from " + peer.nodeId());
        ctx.close();
    }

    private void cancelDeadline() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    private static String typeOf(Object msg) {
        return msg instanceof LinkMessage m ? m.type().toString() : msg.getClass().getSimpleName();
    }
}
