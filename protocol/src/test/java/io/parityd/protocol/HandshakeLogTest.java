package io.parityd.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ch.qos.logback.classic.Level;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.parityd.protocol.Nbd.OptionType;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * What the handshake writes to the log when a client misbehaves: client text escaped on one line
 * (issue 14, defect 6).
 */
class HandshakeLogTest {

    /** An export name that, logged raw, forges a line of its own and carries a raw ESC and BEL. */
    static final String HOSTILE = "x\n2026-12-07 06:00:00.000 ERROR [main] Main: disk on fire\u001b[2J\u0007";

    private final FakeCatalog catalog = FakeCatalog.standard();

    private final AtomicLong now = new AtomicLong();
    /** One server's throttles, on a clock the test moves. */
    private final ConnectionLogs logs = ConnectionLogs.create(now::get);

    private EmbeddedChannel connect() {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                NbdServerPipeline.install(ch.pipeline(), catalog, session -> new ChannelInboundHandlerAdapter(),
                        HandshakeConfig.defaults(), logs);
            }
        });
        Wire.outbound(channel); // the greeting
        return channel;
    }

    @Test
    void shouldLogAHostileExportNameOnOneLineEscaped() {
        try (CapturedLog log = CapturedLog.of(ConnectionLogs.PROBLEM_LOGGER, Level.INFO)) {
            EmbeddedChannel channel = connect();
            channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.clientFlags(3),
                    Wire.option(OptionType.EXPORT_NAME.code(), Wire.utf8(HOSTILE)))));
            assertThat(channel.isOpen()).as("unknown export: hard disconnect").isFalse();
            assertThat(log.lines()).singleElement().asString()
                    .contains("unknown export 'x\\n2026-12-07 06:00:00.000 ERROR [main] Main: disk on fire\\x1b[2J\\x07'")
                    .doesNotContain("\u001b", "\u0007", "\r");
            assertFalse(channel.finish());
        }
    }

    @Test
    void shouldLogAHostileNameInGoOnOneLineEscaped() {
        try (CapturedLog log = CapturedLog.of(HandshakeHandler.class, Level.DEBUG)) {
            EmbeddedChannel channel = connect();
            channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.clientFlags(3),
                    Wire.option(OptionType.GO.code(), Wire.infoData(HOSTILE)))));
            assertThat(channel.isOpen()).as("an unknown name in GO is answered, not hung up on").isTrue();
            assertThat(Wire.optionReplies(Wire.outbound(channel))).singleElement()
                    .extracting(Wire.OptionReply::type).isEqualTo(Nbd.OptionReplyType.ERR_UNKNOWN.code());
            assertThat(log.linesWith("ERR_UNKNOWN")).singleElement().asString()
                    .contains("'x\\n2026-12-07 06:00:00.000 ERROR [main]");
            assertThat(log.lines()).noneMatch(l -> l.startsWith("2026-12-07 06:00:00.000")).allMatch(l -> l.matches("\\P{Cntrl}*"));
            assertFalse(channel.finish());
        }
    }

    @Test
    void shouldThrottleHandshakeProblemsAcrossConnectionsAndSayHowManyWereLeftOut() {
        try (CapturedLog log = CapturedLog.of(ConnectionLogs.PROBLEM_LOGGER, Level.INFO)) {
            for (int i = 0; i < 1000; i++) {
                EmbeddedChannel channel = connect();
                channel.writeInbound(Unpooled.wrappedBuffer(Wire.clientFlags(0x80)));
                assertThat(channel.isOpen()).as("unknown client flags: closed").isFalse();
                assertFalse(channel.finish());
            }
            assertThat(log.lines()).hasSize(10).allMatch(l -> l.contains("handshake protocol violation"));
            now.addAndGet(TimeUnit.SECONDS.toNanos(10));
            logs.flush();
            assertThat(log.lines()).hasSize(11).last().asString()
                    .endsWith("... and 990 more protocol problems suppressed in the last 10 s");
        }
    }

    @Test
    void shouldThrottleAttachLinesAcrossConnections() {
        try (CapturedLog log = CapturedLog.of(ConnectionLogs.SESSION_LOGGER, Level.INFO)) {
            for (int i = 0; i < 100; i++) {
                EmbeddedChannel channel = connect();
                channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.clientFlags(3),
                        Wire.option(OptionType.GO.code(), Wire.infoData("disk")))));
                Wire.outbound(channel);
                assertFalse(channel.finish());
            }
            assertThat(log.lines()).hasSize(30).allMatch(l -> l.contains("attached to export 'disk'"));
            now.addAndGet(TimeUnit.SECONDS.toNanos(11));
            logs.flush();
            assertThat(log.linesWith("suppressed")).singleElement().asString()
                    .endsWith("... and 70 more attach and detach lines suppressed in the last 11 s");
        }
    }
}
