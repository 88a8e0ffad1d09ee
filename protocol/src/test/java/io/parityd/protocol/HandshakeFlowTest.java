package io.parityd.protocol;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.parityd.protocol.Nbd.OptionReplyType;
import io.parityd.protocol.Nbd.OptionType;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.parityd.protocol.NbdServerPipeline.HANDSHAKE_DECODER;
import static io.parityd.protocol.NbdServerPipeline.HANDSHAKE_ENCODER;
import static io.parityd.protocol.NbdServerPipeline.HANDSHAKE_HANDLER;
import static io.parityd.protocol.NbdServerPipeline.HANDSHAKE_GUARD;
import static io.parityd.protocol.NbdServerPipeline.REPLY_ENCODER;
import static io.parityd.protocol.NbdServerPipeline.REQUEST_DECODER;
import static io.parityd.protocol.NbdServerPipeline.TRANSMISSION_HANDLER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Whole handshakes through {@link NbdServerPipeline}, as a client sees them on the wire. */
class HandshakeFlowTest {

    private static final int ACK = 1;
    private static final int SERVER = 2;
    private static final int INFO = 3;
    private static final int GO = OptionType.GO.code();
    private static final byte[] FIXED_NO_ZEROES = Wire.clientFlags(3);

    private final FakeCatalog catalog = FakeCatalog.standard();
    private final List<Session> sessions = new ArrayList<>();

    /** Passes requests on to the channel's inbound queue, where the test reads them. */
    private ChannelHandler transmission(Session session) {
        sessions.add(session);
        return new ChannelInboundHandlerAdapter();
    }

    private EmbeddedChannel connect(HandshakeConfig config) {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                NbdServerPipeline.install(ch.pipeline(), catalog, HandshakeFlowTest.this::transmission, config);
            }
        });
        assertThat(Wire.outbound(channel)).as("greeting").isEqualTo(Wire.bytes(b ->
                b.writeLong(Nbd.NBDMAGIC).writeLong(Nbd.IHAVEOPT).writeShort(0x0003)));
        return channel;
    }

    private EmbeddedChannel connect() {
        return connect(HandshakeConfig.defaults());
    }

    private static List<Wire.OptionReply> send(EmbeddedChannel channel, byte[]... parts) {
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(parts)));
        return Wire.optionReplies(Wire.outbound(channel));
    }

    private static void assertInHandshake(EmbeddedChannel channel) {
        assertThat(channel.isOpen()).isTrue();
        assertThat(channel.pipeline().names()).contains(HANDSHAKE_DECODER, HANDSHAKE_HANDLER)
                .doesNotContain(REQUEST_DECODER);
    }

    private static void assertInTransmission(EmbeddedChannel channel) {
        assertThat(channel.isOpen()).isTrue();
        assertThat(channel.pipeline().names())
                .containsSubsequence(REPLY_ENCODER, REQUEST_DECODER, TRANSMISSION_HANDLER)
                .doesNotContain(HANDSHAKE_GUARD, HANDSHAKE_ENCODER, HANDSHAKE_DECODER, HANDSHAKE_HANDLER);
    }

    private static Wire.OptionReply ack(int option) {
        return new Wire.OptionReply(option, ACK, new byte[0]);
    }

    @Test
    void shouldListEveryExportThenAck() {
        EmbeddedChannel channel = connect();
        List<Wire.OptionReply> replies = send(channel, FIXED_NO_ZEROES, Wire.option(3, new byte[0]));
        assertThat(replies).hasSize(3);
        assertThat(replies.get(0).type()).isEqualTo(SERVER);
        assertThat(replies.get(0).data()).isEqualTo(Wire.concat(Wire.bytes(b -> b.writeInt(4)),
                Wire.utf8("disk"), Wire.utf8("a parity volume")));
        assertThat(replies.get(1).data()).isEqualTo(Wire.concat(Wire.bytes(b -> b.writeInt(7)),
                Wire.utf8("archive"), Wire.utf8("read-only copy")));
        assertThat(replies.get(2)).usingRecursiveComparison().isEqualTo(ack(3));
        assertInHandshake(channel);
        assertFalse(channel.finish());
    }

    @Test
    void shouldRefuseListWithData() {
        EmbeddedChannel channel = connect();
        List<Wire.OptionReply> replies = send(channel, FIXED_NO_ZEROES, Wire.option(3, new byte[] {1}));
        assertThat(replies).singleElement().satisfies(r -> {
            assertThat(r.option()).isEqualTo(3);
            assertThat(r.type()).isEqualTo(OptionReplyType.ERR_INVALID.code());
            assertThat(r.text()).contains("NBD_OPT_LIST takes no data");
        });
        assertInHandshake(channel);
        assertFalse(channel.finish());
    }

    @Test
    void shouldAnswerInfoWithoutBlockSizeRequestAndStayInHandshake() {
        EmbeddedChannel channel = connect();
        List<Wire.OptionReply> replies = send(channel, FIXED_NO_ZEROES, Wire.option(6, Wire.infoData("disk")));
        assertThat(replies).extracting(Wire.OptionReply::type).containsExactly(INFO, INFO, ACK);
        assertThat(replies.get(0).data()).isEqualTo(Wire.bytes(b ->
                b.writeShort(0).writeLong(1L << 30).writeShort(0x1 | 0x4 | 0x8 | 0x20 | 0x40 | 0x800)));
        // Block sizes are sent unasked: they cost 32 bytes and spare a client guessing.
        assertThat(replies.get(1).data()).isEqualTo(Wire.bytes(b ->
                b.writeShort(3).writeInt(512).writeInt(4096).writeInt(32 << 20)));
        assertInHandshake(channel);
        assertThat(sessions).isEmpty();
        assertFalse(channel.finish());
    }

    @Test
    void shouldAnswerInfoWithNameDescriptionAndBlockSize() {
        EmbeddedChannel channel = connect();
        List<Wire.OptionReply> replies = send(channel, FIXED_NO_ZEROES,
                Wire.option(6, Wire.infoData("", 3, 2, 1, 77)));
        assertThat(replies).extracting(Wire.OptionReply::type).containsExactly(INFO, INFO, INFO, INFO, ACK);
        assertThat(replies.get(1).data()).isEqualTo(Wire.concat(Wire.bytes(b -> b.writeShort(1)), Wire.utf8("disk")));
        assertThat(replies.get(2).data()).isEqualTo(Wire.concat(Wire.bytes(b -> b.writeShort(2)),
                Wire.utf8("a parity volume")));
        assertThat(replies.get(3).data()).startsWith(0, 3);
        assertInHandshake(channel);
        assertFalse(channel.finish());
    }

    @Test
    void shouldRefuseMalformedInfoData() {
        EmbeddedChannel channel = connect();
        byte[] nameTooLong = Wire.bytes(b -> b.writeInt(5).writeBytes(Wire.utf8("disk")).writeShort(0));
        List<Wire.OptionReply> replies = send(channel, FIXED_NO_ZEROES, Wire.option(GO, nameTooLong));
        assertThat(replies).singleElement().satisfies(r -> {
            assertThat(r.type()).isEqualTo(OptionReplyType.ERR_INVALID.code());
            assertThat(r.text()).contains("name length 5");
        });
        byte[] countMismatch = Wire.bytes(b -> b.writeInt(4).writeBytes(Wire.utf8("disk")).writeShort(2).writeShort(3));
        assertThat(send(channel, Wire.option(GO, countMismatch))).singleElement()
                .extracting(Wire.OptionReply::type).isEqualTo(OptionReplyType.ERR_INVALID.code());
        assertInHandshake(channel);
        assertFalse(channel.finish());
    }

    @Test
    void shouldEnterTransmissionOnGo() {
        EmbeddedChannel channel = connect();
        List<Wire.OptionReply> replies = send(channel, FIXED_NO_ZEROES, Wire.option(GO, Wire.infoData("disk", 3)));
        assertThat(replies).extracting(Wire.OptionReply::type).containsExactly(INFO, INFO, ACK);
        assertThat(replies).extracting(Wire.OptionReply::option).containsOnly(GO);
        assertInTransmission(channel);
        assertThat(sessions).singleElement().satisfies(s -> {
            assertThat(s.export()).isEqualTo(FakeCatalog.DISK);
            assertThat(s.structuredReplies()).isFalse();
            assertThat(s.blockSizesAgreed()).isTrue();
            assertThat(s.has(TransmissionFlag.SEND_DF)).isFalse();
            assertThat(s.transmissionFlags()).isEqualTo(0x1 | 0x4 | 0x8 | 0x20 | 0x40 | 0x800);
        });
        assertFalse(channel.finish());
    }

    @Test
    void shouldNotCountBlockSizesAgreedWhenGoDidNotAskForThem() {
        EmbeddedChannel channel = connect();
        send(channel, FIXED_NO_ZEROES, Wire.option(6, Wire.infoData("disk", 3)), Wire.option(GO, Wire.infoData("disk")));
        assertThat(sessions).singleElement().extracting(Session::blockSizesAgreed).isEqualTo(false);
        assertFalse(channel.finish());
    }

    @Test
    void shouldAnswerGoForAnUnknownExportWithErrUnknownAndGoOn() {
        EmbeddedChannel channel = connect();
        List<Wire.OptionReply> replies = send(channel, FIXED_NO_ZEROES, Wire.option(GO, Wire.infoData("nope")));
        assertThat(replies).singleElement().satisfies(r -> {
            assertThat(r.option()).isEqualTo(GO);
            assertThat(r.type()).isEqualTo(OptionReplyType.ERR_UNKNOWN.code());
            assertThat(r.text()).isEqualTo("no export named 'nope'");
        });
        assertInHandshake(channel);
        assertThat(send(channel, Wire.option(GO, Wire.infoData("archive")))).last().isEqualTo(ack(GO));
        assertInTransmission(channel);
        assertThat(sessions).singleElement().satisfies(s -> assertThat(s.has(TransmissionFlag.READ_ONLY)).isTrue());
        assertFalse(channel.finish());
    }

    @Test
    void shouldAnswerExportNameWithoutZeroesWhenTheClientAsked() {
        EmbeddedChannel channel = connect();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(FIXED_NO_ZEROES, Wire.option(1, Wire.utf8("disk")))));
        assertThat(Wire.outbound(channel)).isEqualTo(Wire.bytes(b -> b.writeLong(1L << 30).writeShort(0x86d)));
        assertInTransmission(channel);
        assertThat(sessions).singleElement().extracting(Session::blockSizesAgreed).isEqualTo(false);
        assertFalse(channel.finish());
    }

    @Test
    void shouldAnswerExportNameWithZeroesForAnOldClient() {
        EmbeddedChannel channel = connect();
        // Not even FIXED_NEWSTYLE: the export name reply works the same.
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.clientFlags(0), Wire.option(1, new byte[0]))));
        assertThat(Wire.outbound(channel)).isEqualTo(Wire.concat(
                Wire.bytes(b -> b.writeLong(1L << 30).writeShort(0x86d)), new byte[124]));
        assertInTransmission(channel);
        assertThat(sessions).singleElement().extracting(Session::export).isEqualTo(FakeCatalog.DISK);
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseOnExportNameForAnUnknownExport() {
        EmbeddedChannel channel = connect();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(FIXED_NO_ZEROES, Wire.option(1, Wire.utf8("nope")),
                Wire.option(3, new byte[0]))));
        assertThat(Wire.outbound(channel)).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertThat(sessions).isEmpty();
        assertFalse(channel.finish());
    }

    @Test
    void shouldAckAbortThenClose() {
        EmbeddedChannel channel = connect();
        assertThat(send(channel, FIXED_NO_ZEROES, Wire.option(2, new byte[] {9, 9}))).containsExactly(ack(2));
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldNegotiateStructuredRepliesAndAdvertiseDf() {
        EmbeddedChannel channel = connect();
        assertThat(send(channel, FIXED_NO_ZEROES, Wire.option(8, new byte[0]))).containsExactly(ack(8));
        // A repeat changes nothing and is acknowledged again.
        assertThat(send(channel, Wire.option(8, new byte[0]))).containsExactly(ack(8));
        List<Wire.OptionReply> replies = send(channel, Wire.option(GO, Wire.infoData("disk")));
        assertThat(replies.get(0).data()).isEqualTo(Wire.bytes(b ->
                b.writeShort(0).writeLong(1L << 30).writeShort(0x1 | 0x4 | 0x8 | 0x20 | 0x40 | 0x80 | 0x800)));
        assertThat(sessions).singleElement().satisfies(s -> {
            assertThat(s.structuredReplies()).isTrue();
            assertThat(s.has(TransmissionFlag.SEND_DF)).isTrue();
        });
        assertFalse(channel.finish());
    }

    @Test
    void shouldRefuseStructuredReplyWithData() {
        EmbeddedChannel channel = connect();
        assertThat(send(channel, FIXED_NO_ZEROES, Wire.option(8, new byte[4]))).singleElement()
                .extracting(Wire.OptionReply::type).isEqualTo(OptionReplyType.ERR_INVALID.code());
        send(channel, Wire.option(GO, Wire.infoData("disk")));
        assertThat(sessions).singleElement().extracting(Session::structuredReplies).isEqualTo(false);
        assertFalse(channel.finish());
    }

    @Test
    void shouldRefuseUnknownAndUnsupportedOptionsThenStillGo() {
        EmbeddedChannel channel = connect();
        byte[] metaContext = Wire.bytes(b -> b.writeInt(4).writeBytes(Wire.utf8("disk")).writeInt(1).writeInt(15)
                .writeBytes(Wire.utf8("base:allocation")));
        List<Wire.OptionReply> replies = send(channel, FIXED_NO_ZEROES,
                Wire.option(0x12345, Wire.pattern(300, 1)),
                Wire.option(OptionType.STARTTLS.code(), new byte[0]),
                Wire.option(OptionType.SET_META_CONTEXT.code(), metaContext),
                Wire.option(OptionType.EXTENDED_HEADERS.code(), new byte[0]));
        assertThat(replies).extracting(Wire.OptionReply::option).containsExactly(0x12345, 5, 10, 11);
        assertThat(replies).extracting(Wire.OptionReply::type).containsOnly(OptionReplyType.ERR_UNSUP.code());
        assertThat(replies.get(0).text()).isEqualTo("option (74565) is not supported by this server");
        assertThat(replies.get(1).text()).isEqualTo("NBD_OPT_STARTTLS: this server does not offer TLS");
        assertThat(send(channel, Wire.option(GO, Wire.infoData("disk")))).last().isEqualTo(ack(GO));
        assertInTransmission(channel);
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseOnUnknownClientFlags() {
        EmbeddedChannel channel = connect();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.clientFlags(0x11), Wire.option(3, new byte[0]))));
        assertThat(Wire.outbound(channel)).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseOnGarbageInsteadOfIhaveopt() {
        EmbeddedChannel channel = connect();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(FIXED_NO_ZEROES,
                Wire.utf8("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))));
        assertThat(Wire.outbound(channel)).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldRefuseEveryOptionButAbortWhileShuttingDown() {
        EmbeddedChannel channel = connect();
        catalog.shutDown();
        List<Wire.OptionReply> replies = send(channel, FIXED_NO_ZEROES, Wire.option(GO, Wire.infoData("disk")),
                Wire.option(3, new byte[0]), Wire.option(8, new byte[0]), Wire.option(99, new byte[0]));
        assertThat(replies).extracting(Wire.OptionReply::option).containsExactly(GO, 3, 8, 99);
        assertThat(replies).extracting(Wire.OptionReply::type).containsOnly(OptionReplyType.ERR_SHUTDOWN.code());
        assertThat(replies.get(0).text()).isEqualTo("server is shutting down");
        assertThat(sessions).isEmpty();
        assertThat(send(channel, Wire.option(2, new byte[0]))).containsExactly(ack(2));
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldHangUpOnExportNameWhileShuttingDownSinceItsReplyCannotCarryAnError() {
        EmbeddedChannel channel = connect();
        catalog.shutDown();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(FIXED_NO_ZEROES, Wire.option(1, Wire.utf8("disk")),
                Wire.option(3, new byte[0]))));
        assertThat(Wire.outbound(channel)).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertThat(sessions).isEmpty();
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseAndLeaveThePipelineAloneWhenTheTransmissionFactoryFails() {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                NbdServerPipeline.install(ch.pipeline(), catalog, s -> {
                    throw new IllegalStateException("no controller");
                });
            }
        });
        Wire.outbound(channel);
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(FIXED_NO_ZEROES, Wire.option(GO, Wire.infoData("disk")),
                Wire.request(0, 0, 1, 0, 512))));
        Wire.outbound(channel);
        assertThat(channel.isOpen()).isFalse();
        assertThat(channel.pipeline().names()).doesNotContain(REQUEST_DECODER, REPLY_ENCODER);
        assertThat(Wire.inbound(channel)).isEmpty();
        assertFalse(channel.finish());
    }

    @Test
    void shouldHandRequestsPipelinedBehindGoToTheRequestDecoder() {
        EmbeddedChannel channel = connect();
        byte[] payload = Wire.pattern(4096, 7);
        byte[] third = Wire.request(0, 0, 3, 8192, 512);
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(FIXED_NO_ZEROES,
                Wire.option(GO, Wire.infoData("disk", 3)),
                Wire.request(0, 0, 1, 0, 4096),
                Wire.request(1, 1, 2, 4096, 4096), payload,
                java.util.Arrays.copyOf(third, 10))));
        assertThat(Wire.optionReplies(Wire.outbound(channel))).last().isEqualTo(ack(GO));
        assertInTransmission(channel);
        List<Object> requests = Wire.inbound(channel);
        assertThat(requests).hasSize(2);
        NbdRequest read = (NbdRequest) requests.get(0);
        NbdRequest write = (NbdRequest) requests.get(1);
        assertThat(read.type()).isEqualTo(CommandType.READ);
        assertThat(read.cookie()).isEqualTo(1);
        assertThat(write.type()).isEqualTo(CommandType.WRITE);
        assertThat(write.has(CommandFlag.FUA)).isTrue();
        assertThat(ByteBufUtil.getBytes(write.payload())).isEqualTo(payload);
        requests.forEach(r -> ((NbdRequest) r).release());

        channel.writeInbound(Unpooled.wrappedBuffer(third, 10, third.length - 10));
        assertThat(Wire.inbound(channel)).singleElement().satisfies(r -> {
            assertThat(((NbdRequest) r).cookie()).isEqualTo(3);
            assertThat(((NbdRequest) r).offset()).isEqualTo(8192);
        });
        assertFalse(channel.finish());
    }

    @Test
    void shouldLoseNoByteWhateverTheSplitOfAWholeSession() {
        byte[] payload = Wire.pattern(1024, 3);
        byte[] client = Wire.concat(FIXED_NO_ZEROES,
                Wire.option(8, new byte[0]),
                Wire.option(6, Wire.infoData("disk", 3)),
                Wire.option(GO, Wire.infoData("disk", 3, 1)),
                Wire.request(0, 1, 11, 0, 1024), payload,
                Wire.request(0, 3, 12, 0, 0));
        byte[] expectedServer = null;
        for (int k = 0; k <= client.length; k++) {
            sessions.clear();
            EmbeddedChannel channel = connect();
            channel.writeInbound(Unpooled.wrappedBuffer(client, 0, k));
            channel.writeInbound(Unpooled.wrappedBuffer(client, k, client.length - k));
            byte[] server = Wire.outbound(channel);
            if (expectedServer == null) {
                expectedServer = server;
            }
            assertThat(server).as("server bytes, split at %d", k).isEqualTo(expectedServer);
            List<Object> requests = Wire.inbound(channel);
            assertThat(requests).as("split at %d", k).hasSize(2);
            assertThat(ByteBufUtil.getBytes(((NbdRequest) requests.get(0)).payload())).isEqualTo(payload);
            assertThat(((NbdRequest) requests.get(1)).type()).isEqualTo(CommandType.FLUSH);
            requests.forEach(r -> ((NbdRequest) r).release());
            assertThat(sessions).singleElement().extracting(Session::structuredReplies).isEqualTo(true);
            assertFalse(channel.finish());
        }
        assertThat(Wire.optionReplies(expectedServer)).extracting(Wire.OptionReply::type)
                .containsExactly(ACK, INFO, INFO, ACK, INFO, INFO, INFO, ACK);
    }

    @Test
    void shouldCloseAnIdleHandshake() {
        EmbeddedChannel channel = connect(new HandshakeConfig(Duration.ofSeconds(5)));
        channel.writeInbound(Unpooled.wrappedBuffer(FIXED_NO_ZEROES));
        channel.advanceTimeBy(4, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isTrue();
        channel.advanceTimeBy(2, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldNotTimeOutAnIdleTransmission() {
        EmbeddedChannel channel = connect(new HandshakeConfig(Duration.ofSeconds(5)));
        send(channel, FIXED_NO_ZEROES, Wire.option(GO, Wire.infoData("disk")));
        channel.advanceTimeBy(60, TimeUnit.SECONDS);
        channel.runScheduledPendingTasks();
        assertInTransmission(channel);
        assertFalse(channel.finish());
    }

    @Test
    void shouldComputeTransmissionFlagsFromExportAndNegotiation() {
        ExportInfo withDf = new ExportInfo("x", "", 0, FakeCatalog.SIZES,
                java.util.Set.of(TransmissionFlag.SEND_DF, TransmissionFlag.SEND_FAST_ZERO));
        assertThat(HandshakeHandler.transmissionFlags(withDf, false)).isEqualTo(0x1);
        assertThat(HandshakeHandler.transmissionFlags(withDf, true)).isEqualTo(0x1 | 0x80);
        assertThat(HandshakeHandler.transmissionFlags(FakeCatalog.ARCHIVE, false)).isEqualTo(0x3);
    }
}
