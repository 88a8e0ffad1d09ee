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
import org.junit.jupiter.api.Test;

/**
 * What the handshake writes to the log when a client misbehaves: client text escaped on one line
 * (issue 14, defect 6).
 */
class HandshakeLogTest {

    /** An export name that, logged raw, forges a line of its own and carries a raw ESC and BEL. */
    static final String HOSTILE = "x\n2026-12-07 06:00:00.000 ERROR [main] Main: disk on fire\u001b[2J\u0007";

    private final FakeCatalog catalog = FakeCatalog.standard();

    private EmbeddedChannel connect() {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                NbdServerPipeline.install(ch.pipeline(), catalog, session -> new ChannelInboundHandlerAdapter());
            }
        });
        Wire.outbound(channel); // the greeting
        return channel;
    }

    @Test
    void shouldLogAHostileExportNameOnOneLineEscaped() {
        try (CapturedLog log = CapturedLog.of(HandshakeHandler.class, Level.INFO)) {
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
}
