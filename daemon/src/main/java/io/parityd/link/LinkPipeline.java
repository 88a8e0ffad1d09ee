package io.parityd.link;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.flush.FlushConsolidationHandler;

import java.time.Duration;

/**
 * Builds a link's pipeline, on either end of the connection:
 * <pre>
 *   link-flush-consolidation → link-frame-decoder → link-frame-encoder → link-handshake → (the caller's handler)
 * </pre>
 * The caller adds its own handler after these, then waits for a user event: {@link LinkEstablished}
 * (the handshake has left the pipeline; every message from here on is the caller's, and the caller
 * releases those that hold data) or {@link LinkRefused} (the peer said why; the channel closes). A
 * channel that closes without either failed the handshake on our side, which was logged.
 *
 * <p>A broken stream reaches the caller's handler as a {@link LinkProtocolException} in
 * {@code exceptionCaught}, after the decoder logged it and closed the channel. The handshake
 * authenticates the peer once, at connect time; frames after it carry no MAC of their own, so links
 * belong on a network that on-path attackers cannot reach (or under TLS).
 */
public final class LinkPipeline {

    /**
     * A peer that is up answers within a round trip; five seconds leaves room for a loaded or
     * garbage-collecting peer while a dead or silent one does not hold a connection for long.
     */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);

    public static final String FLUSH_CONSOLIDATION = "link-flush-consolidation";
    public static final String FRAME_DECODER = "link-frame-decoder";
    public static final String FRAME_ENCODER = "link-frame-encoder";
    public static final String HANDSHAKE = "link-handshake";
    /** The TLS layer of a link with {@link LinkTls}, first in the pipeline. */
    public static final String TLS = "link-tls";
    static final String TLS_DETECTOR = "link-tls-detector";
    /** Set on an answered link whose peer spoke without TLS (see {@link LinkTlsDetector}). */
    static final io.netty.util.AttributeKey<Boolean> PLAIN_PEER =
            io.netty.util.AttributeKey.valueOf(LinkPipeline.class, "plain-peer");

    private LinkPipeline() {
    }

    /**
     * Installs the codec and the handshake, on a channel before or after it became active.
     *
     * @param side whether this end dialled the connection or answered it (see {@link LinkSide})
     */
    public static void install(ChannelPipeline pipeline, LinkSide side, Hello ours, LinkSecret secret,
                               HelloCheck check, Duration timeout) {
        install(pipeline, side, ours, secret, check, timeout, null);
    }

    /**
     * As {@link #install(ChannelPipeline, LinkSide, Hello, LinkSecret, HelloCheck, Duration)}, under
     * mutual TLS when {@code tls} is not null: a dialling end starts TLS at once; an answering end
     * first looks whether the peer speaks TLS, and refuses one that does not, by name.
     */
    public static void install(ChannelPipeline pipeline, LinkSide side, Hello ours, LinkSecret secret,
                               HelloCheck check, Duration timeout, LinkTls tls) {
        if (tls != null) {
            if (side == LinkSide.DIALS) {
                pipeline.addLast(TLS, tls.client().newHandler(pipeline.channel().alloc()));
            } else {
                pipeline.addLast(TLS_DETECTOR, new LinkTlsDetector(tls.server()));
            }
        }
        // Many messages cross a link per event-loop turn (replies from I/O threads, requests while
        // reading a client's): one syscall per turn instead of one per message.
        pipeline.addLast(FLUSH_CONSOLIDATION, new FlushConsolidationHandler(
                FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        pipeline.addLast(FRAME_DECODER, new FrameDecoder());
        pipeline.addLast(FRAME_ENCODER, new FrameEncoder());
        pipeline.addLast(HANDSHAKE, new LinkHandshake(side, ours, secret, check, timeout, tls != null));
    }

    /** As {@link #install(ChannelPipeline, LinkSide, Hello, LinkSecret, HelloCheck, Duration, LinkTls)}, with the default timeout. */
    public static void install(ChannelPipeline pipeline, LinkSide side, Hello ours, LinkSecret secret,
                               HelloCheck check, LinkTls tls) {
        install(pipeline, side, ours, secret, check, DEFAULT_HANDSHAKE_TIMEOUT, tls);
    }

    /** As {@link #install(ChannelPipeline, LinkSide, Hello, LinkSecret, HelloCheck, Duration)}, with {@link #DEFAULT_HANDSHAKE_TIMEOUT}. */
    public static void install(ChannelPipeline pipeline, LinkSide side, Hello ours, LinkSecret secret,
                               HelloCheck check) {
        install(pipeline, side, ours, secret, check, DEFAULT_HANDSHAKE_TIMEOUT);
    }
}
