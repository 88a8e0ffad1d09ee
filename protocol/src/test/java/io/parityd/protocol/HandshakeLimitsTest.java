package io.parityd.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.parityd.protocol.Nbd.OptionReplyType;
import io.parityd.protocol.Nbd.OptionType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The bounds on what one client can make the handshake do (issue 14): how many options it may
 * send, and no reading while its replies cannot be written.
 */
class HandshakeLimitsTest {

    private static final int ACK = 1;
    private static final int LIST = OptionType.LIST.code();
    private static final int INFO = OptionType.INFO.code();
    private static final int GO = OptionType.GO.code();
    private static final int STRUCTURED_REPLY = OptionType.STRUCTURED_REPLY.code();
    private static final byte[] FLAGS = Wire.clientFlags(3);

    private final FakeCatalog catalog = FakeCatalog.standard();
    private final List<Session> sessions = new ArrayList<>();

    private EmbeddedChannel connect() {
        return connect(HandshakeConfig.defaults());
    }

    private EmbeddedChannel connect(HandshakeConfig config) {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                NbdServerPipeline.install(ch.pipeline(), catalog, session -> {
                    sessions.add(session);
                    return new ChannelInboundHandlerAdapter();
                }, config);
            }
        });
        Wire.outbound(channel); // the greeting
        return channel;
    }

    private static byte[] times(int n, byte[] option) {
        byte[][] parts = new byte[n][];
        java.util.Arrays.fill(parts, option);
        return Wire.concat(parts);
    }

    private static List<Wire.OptionReply> send(EmbeddedChannel channel, byte[]... parts) {
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(parts)));
        return Wire.optionReplies(Wire.outbound(channel));
    }

    @Test
    void shouldServeGoAsTheLastOptionWithinTheLimit() {
        EmbeddedChannel channel = connect();
        byte[] others = times(HandshakeHandler.MAX_OPTIONS - 1, Wire.option(STRUCTURED_REPLY, new byte[0]));
        List<Wire.OptionReply> replies = send(channel, FLAGS, others, Wire.option(GO, Wire.infoData("disk")));
        assertThat(replies).filteredOn(r -> r.type() < 0).isEmpty();
        assertThat(sessions).as("in transmission").hasSize(1);
        assertFalse(channel.finish());
    }

    @Test
    void shouldRefuseTheOptionPastTheLimitWithPolicyAndHangUp() {
        EmbeddedChannel channel = connect();
        byte[] options = times(HandshakeHandler.MAX_OPTIONS, Wire.option(STRUCTURED_REPLY, new byte[0]));
        List<Wire.OptionReply> replies = send(channel, FLAGS, options, Wire.option(GO, Wire.infoData("disk")),
                times(100, Wire.option(STRUCTURED_REPLY, new byte[0])));
        assertThat(replies).hasSize(HandshakeHandler.MAX_OPTIONS + 1);
        assertThat(replies.subList(0, HandshakeHandler.MAX_OPTIONS)).extracting(Wire.OptionReply::type).containsOnly(ACK);
        Wire.OptionReply last = replies.get(HandshakeHandler.MAX_OPTIONS);
        assertThat(last.option()).isEqualTo(GO);
        assertThat(last.type()).isEqualTo(OptionReplyType.ERR_POLICY.code());
        assertThat(last.text()).contains("too many options");
        assertThat(channel.isOpen()).as("a client that will not choose an export is hung up on").isFalse();
        assertThat(sessions).isEmpty();
        assertFalse(channel.finish());
    }

    @Test
    void shouldAllowARoundOfOptionsPerExportAfterTheFirstList() {
        EmbeddedChannel channel = connect();
        int exports = catalog.list().size();
        int allowed = HandshakeHandler.MAX_OPTIONS * (1 + exports);
        byte[] info = Wire.option(INFO, Wire.infoData("disk"));
        List<Wire.OptionReply> replies = send(channel, FLAGS, Wire.option(LIST, new byte[0]), times(allowed - 1, info));
        assertThat(replies).filteredOn(r -> r.type() < 0).isEmpty();
        assertThat(channel.isOpen()).isTrue();
        replies = send(channel, info);
        assertThat(replies).singleElement().extracting(Wire.OptionReply::type).isEqualTo(OptionReplyType.ERR_POLICY.code());
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldNotGrantMoreForAnotherList() {
        EmbeddedChannel channel = connect();
        int allowed = HandshakeHandler.MAX_OPTIONS * (1 + catalog.list().size());
        List<Wire.OptionReply> replies = send(channel, FLAGS, times(allowed + 1, Wire.option(LIST, new byte[0])));
        assertThat(replies).last().extracting(Wire.OptionReply::type).isEqualTo(OptionReplyType.ERR_POLICY.code());
        assertThat(replies).filteredOn(r -> r.type() == ACK).hasSize(allowed);
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldNotDecodeOptionsWhileRepliesCannotBeWritten() {
        EmbeddedChannel channel = connect();
        send(channel, FLAGS);
        channel.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        channel.runPendingTasks(); // the writability event is delivered on the event loop
        assertThat(channel.config().isAutoRead()).as("reading while replies cannot leave").isFalse();
        List<Wire.OptionReply> replies = send(channel, times(3, Wire.option(LIST, new byte[0])));
        assertThat(replies).as("answered while not writable").isEmpty();

        channel.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        channel.runPendingTasks();
        assertThat(channel.config().isAutoRead()).isTrue();
        replies = Wire.optionReplies(Wire.outbound(channel));
        assertThat(replies).as("the three LISTs, answered once writable").filteredOn(r -> r.type() == ACK).hasSize(3);
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseAHandshakeThatTricklesPastItsDeadline() {
        EmbeddedChannel channel = connect(new HandshakeConfig(Duration.ofSeconds(5)));
        byte[] bytes = Wire.concat(FLAGS, Wire.option(GO, Wire.infoData("disk")));
        // One byte every 2 s: never idle for long, never done.
        for (int i = 0; i < 2; i++) {
            channel.writeInbound(Unpooled.wrappedBuffer(bytes, i, 1));
            channel.advanceTimeBy(2, TimeUnit.SECONDS);
            channel.runScheduledPendingTasks();
        }
        assertThat(channel.isOpen()).isTrue();
        channel.writeInbound(Unpooled.wrappedBuffer(bytes, 2, 1));
        channel.advanceTimeBy(1100, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).as("open 5.1 s after accept, still in the handshake").isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldLiftTheDeadlineOnceTheClientChoseAnExport() {
        EmbeddedChannel channel = connect(new HandshakeConfig(Duration.ofSeconds(5)));
        send(channel, FLAGS, Wire.option(GO, Wire.infoData("disk")));
        channel.advanceTimeBy(1, TimeUnit.HOURS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).isTrue();
        assertThat(sessions).hasSize(1);
        assertFalse(channel.finish());
    }

    @Test
    void shouldLogAClosedHandshakeOnce() {
        try (CapturedLog log = CapturedLog.of(ConnectionLogs.PROBLEM_LOGGER, ch.qos.logback.classic.Level.INFO)) {
            EmbeddedChannel channel = connect(new HandshakeConfig(Duration.ofMillis(1500)));
            channel.advanceTimeBy(2, TimeUnit.SECONDS);
            channel.runScheduledPendingTasks();
            assertThat(channel.isOpen()).isFalse();
            assertThat(log.lines()).singleElement().asString().contains("handshake not finished within 1.5 s; closing");
            assertFalse(channel.finish());
        }
    }

    private static EmbeddedChannel connectRefused(String why) {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                NbdServerPipeline.installRefusal(ch.pipeline(), HandshakeConfig.defaults(), ConnectionLogs.create(), why);
            }
        });
        assertThat(Wire.outbound(channel)).as("greeting").hasSize(18);
        return channel;
    }

    @Test
    void shouldAnswerEveryOptionOfARefusedConnectionWithWhyUntilTheTimeLimit() {
        EmbeddedChannel channel = connectRefused("too many connections (2 open; the limit is 2)");
        List<Wire.OptionReply> replies = send(channel, FLAGS, Wire.option(STRUCTURED_REPLY, new byte[0]),
                Wire.option(GO, Wire.infoData("disk")));
        assertThat(replies).hasSize(2).allSatisfy(r -> {
            assertThat(r.type()).isEqualTo(OptionReplyType.ERR_POLICY.code());
            assertThat(r.text()).isEqualTo("too many connections (2 open; the limit is 2)");
        });
        assertThat(replies).extracting(Wire.OptionReply::option).containsExactly(STRUCTURED_REPLY, GO);
        assertThat(channel.isOpen()).as("the client may still ABORT").isTrue();
        channel.advanceTimeBy(HandshakeConfig.DEFAULT_TIMEOUT.toMillis() + 1, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        assertThat(channel.isOpen()).as("closed by the handshake's time limit").isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldAckAnAbortOnARefusedConnection() {
        EmbeddedChannel channel = connectRefused("full");
        List<Wire.OptionReply> replies = send(channel, FLAGS, Wire.option(OptionType.ABORT.code(), new byte[0]));
        assertThat(replies).singleElement().extracting(Wire.OptionReply::type).isEqualTo(ACK);
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldHangUpOnExportNameOnARefusedConnectionSinceItsReplyCannotCarryAnError() {
        EmbeddedChannel channel = connectRefused("full");
        List<Wire.OptionReply> replies = send(channel, FLAGS, Wire.option(OptionType.EXPORT_NAME.code(), Wire.utf8("disk")));
        assertThat(replies).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }
}
