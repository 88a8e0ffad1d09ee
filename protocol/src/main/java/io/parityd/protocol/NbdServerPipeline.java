package io.parityd.protocol;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelPipeline;
import io.netty.util.AttributeKey;
import java.util.List;
import java.util.Optional;

/**
 * Builds a connection's pipeline for both NBD phases (proto.md "Protocol phases"). A freshly
 * accepted channel gets the handshake:
 * <pre>
 *   nbd-handshake-guard → nbd-handshake-encoder → nbd-handshake-decoder → nbd-handshake
 * </pre>
 * When the client chooses an export ({@code NBD_OPT_GO} acknowledged, or {@code NBD_OPT_EXPORT_NAME}
 * answered) the handshake handlers leave and the transmission phase takes their place:
 * <pre>
 *   nbd-reply-encoder → nbd-request-decoder → nbd-transmission (from the factory)
 * </pre>
 * Bytes the client pipelined behind its final option reach the request decoder, not the floor.
 */
public final class NbdServerPipeline {

    /** The channel's payload receiver, created with its read allocator at accept time. */
    static final AttributeKey<PayloadReceiver> RECEIVER = AttributeKey.valueOf(NbdServerPipeline.class, "payload-receiver");

    /** The TLS layer, first in the pipeline once a client's STARTTLS was acknowledged. */
    static final String TLS = "nbd-tls";
    static final String HANDSHAKE_GUARD = "nbd-handshake-guard";
    static final String HANDSHAKE_ENCODER = "nbd-handshake-encoder";
    static final String HANDSHAKE_DECODER = "nbd-handshake-decoder";
    static final String HANDSHAKE_HANDLER = "nbd-handshake";
    static final String REPLY_ENCODER = "nbd-reply-encoder";
    static final String REQUEST_DECODER = "nbd-request-decoder";
    static final String TRANSMISSION_HANDLER = "nbd-transmission";

    /** The catalog of a refused connection. */
    private static final ExportCatalog NO_EXPORTS = new ExportCatalog() {
        @Override
        public Optional<ExportInfo> find(String name) {
            return Optional.empty();
        }

        @Override
        public List<ExportInfo> list() {
            return List.of();
        }
    };

    private NbdServerPipeline() {
    }

    /** Installs the handshake on a freshly accepted channel; transmission handlers follow once the client chooses an export. */
    public static void install(ChannelPipeline pipeline, ExportCatalog catalog, TransmissionHandlerFactory factory) {
        install(pipeline, catalog, factory, HandshakeConfig.defaults());
    }

    /** As {@link #install(ChannelPipeline, ExportCatalog, TransmissionHandlerFactory)}, with explicit handshake settings. */
    public static void install(ChannelPipeline pipeline, ExportCatalog catalog, TransmissionHandlerFactory factory,
                               HandshakeConfig config) {
        install(pipeline, catalog, factory, config, ConnectionLogs.create());
    }

    /**
     * As {@link #install(ChannelPipeline, ExportCatalog, TransmissionHandlerFactory, HandshakeConfig)},
     * logging through {@code logs}: a server passes the same set to all its connections, so what
     * they make it log is throttled as a whole.
     */
    public static void install(ChannelPipeline pipeline, ExportCatalog catalog, TransmissionHandlerFactory factory,
                               HandshakeConfig config, ConnectionLogs logs) {
        // The read allocator must be in place before the first read: channels create their
        // allocator handle then and keep it (see PayloadReceiver).
        PayloadReceiver receiver = new PayloadReceiver();
        ChannelConfig channelConfig = pipeline.channel().config();
        channelConfig.setRecvByteBufAllocator(receiver.wrap(channelConfig.getRecvByteBufAllocator()));
        pipeline.channel().attr(RECEIVER).set(receiver);
        pipeline.addLast(HANDSHAKE_GUARD, new HandshakeGuard(config, logs));
        pipeline.addLast(HANDSHAKE_ENCODER, new HandshakeEncoder());
        pipeline.addLast(HANDSHAKE_DECODER, new HandshakeDecoder(logs));
        pipeline.addLast(HANDSHAKE_HANDLER, new HandshakeHandler(catalog, factory, logs, config.tls()));
    }

    /** Bytes the handshake decoder holds that it has not decoded yet: what a client sent ahead. */
    static int bufferedHandshakeBytes(ChannelPipeline pipeline) {
        ChannelHandler decoder = pipeline.get(HANDSHAKE_DECODER);
        return decoder instanceof HandshakeDecoder d ? d.buffered() : 0;
    }

    /**
     * Installs a handshake that serves nothing on a freshly accepted channel: the client is greeted
     * and every option is answered with {@code NBD_REP_ERR_POLICY} and {@code why}
     * ({@code NBD_OPT_ABORT} is acknowledged, {@code NBD_OPT_EXPORT_NAME} hung up on), until the
     * client leaves or the handshake's time limit closes it. For a server that is full: the client
     * learns why instead of seeing a bare reset.
     */
    public static void installRefusal(ChannelPipeline pipeline, HandshakeConfig config, ConnectionLogs logs, String why) {
        pipeline.addLast(HANDSHAKE_GUARD, new HandshakeGuard(config, logs));
        pipeline.addLast(HANDSHAKE_ENCODER, new HandshakeEncoder());
        pipeline.addLast(HANDSHAKE_DECODER, new HandshakeDecoder(logs));
        pipeline.addLast(HANDSHAKE_HANDLER, new HandshakeHandler(NO_EXPORTS, session -> {
            throw new IllegalStateException("a refused connection never reaches transmission");
        }, logs, why));
    }

    /**
     * Swaps the handshake for the transmission phase. Called by the handshake handler on the event
     * loop after its final reply was written (and so already encoded). The order matters: the new
     * decoder and handler are in place before the handshake decoder leaves, because on removal it
     * forwards whatever it still buffers to the next inbound handler — the client's first requests.
     */
    static void enterTransmission(ChannelHandlerContext handshake, Session session, TransmissionHandlerFactory factory,
                                  ConnectionLogs logs) {
        // First, so that a factory that throws leaves the handshake pipeline as it was.
        ChannelHandler transmission = factory.newTransmissionHandler(session);
        ChannelPipeline pipeline = handshake.pipeline();
        // Under TLS the socket carries ciphertext: payloads are read from what TLS decrypts, never
        // straight from the socket into place.
        PayloadReceiver receiver = pipeline.get(TLS) != null ? null : handshake.channel().attr(RECEIVER).get();
        RequestDecoder requests = new RequestDecoder(session.export().blockSizes().maximum(),
                receiver != null ? receiver : new PayloadReceiver(), factory.payloadMemory(), logs);
        pipeline.addAfter(HANDSHAKE_DECODER, REQUEST_DECODER, requests);
        pipeline.addBefore(REQUEST_DECODER, REPLY_ENCODER, new ReplyEncoder(session));
        pipeline.addAfter(REQUEST_DECODER, TRANSMISSION_HANDLER, transmission);
        pipeline.remove(HANDSHAKE_GUARD);
        pipeline.remove(HANDSHAKE_ENCODER);
        pipeline.remove(HANDSHAKE_HANDLER);
        pipeline.remove(HANDSHAKE_DECODER);
    }
}
