package io.parityd.link;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

import java.util.stream.Stream;

import static io.parityd.link.Frames.bytes;
import static io.parityd.link.Frames.concat;
import static io.parityd.link.Frames.frame;
import static io.parityd.link.Frames.header;
import static io.parityd.link.Frames.ioBody;
import static io.parityd.link.Frames.pattern;
import static io.parityd.link.Frames.string;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Broken streams: each one closes the channel and reports what was wrong, wherever the bytes were cut. */
@org.junit.jupiter.api.extension.ExtendWith(io.parityd.LeakCheck.class)
class FrameDecoderTest {

    private static final byte[] SEQ = bytes(b -> b.writeLong(1));

    static Stream<Arguments> brokenStreams() {
        return Stream.of(
                Arguments.of("bad magic", concat(header(0x4450, LinkFormat.VERSION, 30, 8), SEQ), "bad magic 0x4450"),
                Arguments.of("version 1", concat(header(0x5044, 1, 30, 8), SEQ), "version 1 is not supported"),
                Arguments.of("unknown type 99", concat(header(0x5044, LinkFormat.VERSION, 99, 8), SEQ), "unknown message type 99"),
                // Header only: the length alone must break the stream, before any body arrives.
                Arguments.of("body length MAX_BODY+1", header(0x5044, LinkFormat.VERSION, 10, LinkFormat.MAX_BODY + 1L),
                        "REQUEST body length 34603009 is over the limit of 34603008"),
                Arguments.of("body length 2^32-1", header(0x5044, LinkFormat.VERSION, 11, 0xffffffffL),
                        "body length 4294967295 is over the limit"),
                Arguments.of("truncated field", frame(MessageType.RECEIVED, new byte[4]),
                        "RECEIVED body: body too short: field seq needs 8 bytes at offset 0, 4 left"),
                Arguments.of("truncated string", frame(MessageType.REFUSE, new byte[]{0, 10, 'a', 'b'}),
                        "REFUSE body: body too short: field reason needs 10 bytes at offset 2, 2 left"),
                Arguments.of("truncated mac", frame(MessageType.AUTH, new byte[31]), "field mac needs 32 bytes"),
                Arguments.of("trailing bytes", frame(MessageType.RECEIVED, concat(SEQ, new byte[]{0})),
                        "RECEIVED body: 1 trailing bytes after the last field (body of 9 bytes)"),
                Arguments.of("WRITE data shorter than its length",
                        frame(MessageType.REQUEST, ioBody(1, 1, 0, 0, 512, pattern(100, 1))),
                        "REQUEST body: WRITE of length 512 carries 100 bytes of data"),
                Arguments.of("WRITE data longer than its length",
                        frame(MessageType.CATCH_UP_RECORD, ioBody(1, 1, 0, 0, 4, pattern(5, 1))),
                        "CATCH_UP_RECORD body: WRITE of length 4 carries 5 bytes of data"),
                Arguments.of("data on a READ", frame(MessageType.REQUEST, ioBody(1, 0, 0, 0, 512, new byte[3])),
                        "READ request carries 3 bytes of data (trailing bytes)"),
                Arguments.of("data on a failed reply",
                        frame(MessageType.REPLY, concat(bytes(b -> b.writeLong(1).writeInt(5)), string("EIO"),
                                new byte[4])),
                        "reply with status 5 carries 4 bytes of data"),
                Arguments.of("string over the limit",
                        frame(MessageType.REFUSE, concat(bytes(b -> b.writeShort(1025)), pattern(1025, 'a'))),
                        "field reason: string of 1025 bytes is over the limit of 1024"),
                Arguments.of("invalid UTF-8", frame(MessageType.REFUSE, new byte[]{0, 2, (byte) 0xc3, 0x28}),
                        "field reason: 2 bytes are not valid UTF-8"),
                Arguments.of("unknown command", frame(MessageType.REQUEST, ioBody(1, 9, 0, 0, 0, new byte[0])),
                        "REQUEST body: field command: unknown command 9"),
                Arguments.of("FINISHED count over the limit", frame(MessageType.FINISHED, bytes(b -> b.writeInt(1 << 17))),
                        "FINISHED body: field count: 131072 is outside 0..65536"),
                Arguments.of("FINISHED count beyond its body",
                        frame(MessageType.FINISHED, bytes(b -> b.writeInt(3).writeLong(1))),
                        "FINISHED body: field count: 3 seqs need 24 bytes, the body has 8 left"),
                Arguments.of("unknown node kind", frame(MessageType.HELLO, new byte[]{7}),
                        "HELLO body: field kind: unknown node kind 7"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenStreams")
    void shouldCloseAndReportABrokenStreamSplitAtEveryByte(String name, byte[] stream, String problem) {
        for (int k = 0; k <= stream.length; k++) {
            EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
            ByteBuf first = Unpooled.wrappedBuffer(stream, 0, k);
            ByteBuf second = Unpooled.wrappedBuffer(stream, k, stream.length - k);
            Throwable thrown = catchThrowable(() -> channel.writeInbound(first));
            if (channel.isOpen()) {
                thrown = catchThrowable(() -> channel.writeInbound(second));
            } else {
                second.release();
            }
            assertThat(thrown).as("split at %d", k).isInstanceOf(LinkProtocolException.class)
                    .hasMessageContaining(problem);
            assertThat(channel.isOpen()).as("split at %d", k).isFalse();
            assertThat(Frames.inbound(channel)).isEmpty();
            assertFalse(channel.finish());
            assertThat(first.refCnt() == 0 || first.capacity() == 0).isTrue();
            assertThat(second.refCnt() == 0 || second.capacity() == 0).isTrue();
        }
    }

    @Test
    void shouldBreakOnALengthOverTheLimitAsSoonAsTheHeaderIsIn() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        byte[] head = header(0x5044, LinkFormat.VERSION, MessageType.REQUEST.code(), LinkFormat.MAX_BODY + 1L);
        channel.writeInbound(Unpooled.wrappedBuffer(head, 0, 7));
        assertThat(channel.isOpen()).as("7 bytes are not a header yet").isTrue();
        Throwable thrown = catchThrowable(() -> channel.writeInbound(Unpooled.wrappedBuffer(head, 7, 1)));
        assertThat(thrown).isInstanceOf(LinkProtocolException.class).hasMessageContaining("over the limit");
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldAcceptABodyOfExactlyMaxBodyInTheHeader() {
        // The header passes; the decoder then waits for the body (which we never send).
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        channel.writeInbound(Unpooled.wrappedBuffer(header(0x5044, LinkFormat.VERSION, MessageType.REQUEST.code(), LinkFormat.MAX_BODY)));
        assertThat(channel.isOpen()).isTrue();
        assertThat(Frames.inbound(channel)).isEmpty();
        assertFalse(channel.finish());
    }

    @Test
    void shouldDeliverWhatCameBeforeTheBreakAndNothingAfter() {
        byte[] good = Frames.encode(new Received(1));
        byte[] write = Frames.encode(new Request(2, Command.WRITE, 0, 0, 16, Unpooled.wrappedBuffer(pattern(16, 1))));
        byte[] bad = concat(header(0x5044, LinkFormat.VERSION, 99, 0));
        ByteBuf in = Unpooled.wrappedBuffer(concat(good, bad, write, good));
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        Throwable thrown = catchThrowable(() -> channel.writeInbound(in));
        assertThat(thrown).isInstanceOf(LinkProtocolException.class).hasMessage("unknown message type 99");
        assertThat(Frames.inbound(channel)).containsExactly(new Received(1));
        assertThat(channel.isOpen()).isFalse();
        assertThat(in.refCnt()).isZero();
        assertFalse(channel.finish());
    }

    @Test
    void shouldLogABrokenStreamOnce() {
        Logger logger = (Logger) LoggerFactory.getLogger(FrameDecoder.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
            byte[] bad = concat(header(0x5044, 7, 30, 8), SEQ);
            catchThrowable(() -> channel.writeInbound(Unpooled.wrappedBuffer(concat(bad, bad, bad))));
            assertThat(appender.list).hasSize(1);
            assertThat(appender.list.get(0).getLevel()).isEqualTo(Level.WARN);
            assertThat(appender.list.get(0).getFormattedMessage()).contains("closing", "version 7");
            assertFalse(channel.finish());
        } finally {
            logger.detachAppender(appender);
        }
    }
}
