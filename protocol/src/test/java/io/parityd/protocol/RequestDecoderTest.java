package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertFalse;

class RequestDecoderTest {

    private static final int MAX = 4096;

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(new RequestDecoder(MAX));
    }

    private static NbdRequest only(List<Object> messages) {
        assertThat(messages).hasSize(1);
        return (NbdRequest) messages.get(0);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 2, 3, 4, 5, 6, 7, 8, 42, 0xffff})
    void shouldDecodeEveryCommandWithoutPayloadSplitAtEveryByte(int type) {
        byte[] message = Wire.request(0x0011, type, 0x0102030405060708L, 0xfffffffffffff000L, 0xfffffe00L);
        for (int k = 0; k <= message.length; k++) {
            Wire.Split split = Wire.split(RequestDecoderTest::channel, message, k);
            NbdRequest r = only(split.messages());
            assertThat(r.typeCode()).as("split at %d", k).isEqualTo(type);
            assertThat(r.type()).isEqualTo(CommandType.fromCode(type));
            assertThat(r.flags()).isEqualTo(0x0011);
            assertThat(r.cookie()).isEqualTo(0x0102030405060708L);
            assertThat(r.offset()).isEqualTo(0xfffffffffffff000L);
            assertThat(r.length()).isEqualTo(0xfffffe00L);
            assertThat(r.payloadDropped()).isFalse();
            assertThat(r.payload().readableBytes()).isZero();
            split.release();
            assertFalse(split.channel().finish());
        }
    }

    @Test
    void shouldDecodeAWriteSplitAtEveryByte() {
        byte[] payload = Wire.pattern(1024, 9);
        byte[] message = Wire.concat(Wire.request(1, 1, 77, 512, 1024), payload);
        for (int k = 0; k <= message.length; k++) {
            Wire.Split split = Wire.split(RequestDecoderTest::channel, message, k);
            NbdRequest r = only(split.messages());
            assertThat(r.type()).as("split at %d", k).isEqualTo(CommandType.WRITE);
            assertThat(r.has(CommandFlag.FUA)).isTrue();
            assertThat(r.cookie()).isEqualTo(77);
            assertThat(r.offset()).isEqualTo(512);
            assertThat(r.length()).isEqualTo(1024);
            assertThat(ByteBufUtil.getBytes(r.payload())).isEqualTo(payload);
            split.release();
            assertFalse(split.channel().finish());
        }
    }

    @Test
    void shouldAcceptAPayloadOfExactlyTheMaximum() {
        EmbeddedChannel channel = channel();
        byte[] payload = Wire.pattern(MAX, 1);
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.request(0, 1, 1, 0, MAX), payload)));
        NbdRequest r = only(Wire.inbound(channel));
        assertThat(r.payloadDropped()).isFalse();
        assertThat(ByteBufUtil.getBytes(r.payload())).isEqualTo(payload);
        r.release();
        assertFalse(channel.finish());
    }

    @Test
    void shouldEmitAZeroLengthWriteAtOnce() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.request(0, 1, 5, 0, 0)));
        NbdRequest r = only(Wire.inbound(channel));
        assertThat(r.type()).isEqualTo(CommandType.WRITE);
        assertThat(r.payload().readableBytes()).isZero();
        r.release();
        assertFalse(channel.finish());
    }

    @Test
    void shouldDrainAnOversizedWriteAndStayInStepSplitAtEveryByte() {
        byte[] message = Wire.concat(Wire.request(0, 1, 21, 0, MAX + 512), Wire.pattern(MAX + 512, 2),
                Wire.request(0, 0, 22, 4096, 512));
        for (int k = 0; k <= message.length; k++) {
            Wire.Split split = Wire.split(RequestDecoderTest::channel, message, k);
            List<Object> out = split.messages();
            assertThat(out).as("split at %d", k).hasSize(2);
            NbdRequest dropped = (NbdRequest) out.get(0);
            assertThat(dropped.type()).isEqualTo(CommandType.WRITE);
            assertThat(dropped.cookie()).isEqualTo(21);
            assertThat(dropped.length()).isEqualTo(MAX + 512);
            assertThat(dropped.payloadDropped()).isTrue();
            assertThat(dropped.payload().readableBytes()).isZero();
            NbdRequest next = (NbdRequest) out.get(1);
            assertThat(next.type()).isEqualTo(CommandType.READ);
            assertThat(next.cookie()).isEqualTo(22);
            assertThat(next.offset()).isEqualTo(4096);
            split.release();
            assertFalse(split.channel().finish());
        }
    }

    @Test
    void shouldNotBufferADrainedPayload() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.request(0, 1, 1, 0, 3 * MAX)));
        for (int i = 0; i < 3; i++) {
            ByteBuf chunk = Unpooled.buffer(MAX).writeBytes(new byte[MAX]);
            channel.writeInbound(chunk);
            assertThat(chunk.refCnt()).as("chunk %d is consumed, not kept", i).isZero();
        }
        assertThat(only(Wire.inbound(channel)).payloadDropped()).isTrue();
        assertFalse(channel.finish());
    }

    @Test
    void shouldDrainUpTo32MiBEvenWhenTheMaximumIsSmaller() {
        assertThat(new RequestDecoder(MAX).drainLimit()).isEqualTo(32 << 20);
        assertThat(new RequestDecoder(32 << 20).drainLimit()).isEqualTo(64L << 20);
        assertThatThrownBy(() -> new RequestDecoder(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldCloseOnAnAbsurdWriteLength() {
        EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder(32 << 20));
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.request(0, 1, 1, 0, 3L * (32 << 20)),
                new byte[1000])));
        assertThat(Wire.inbound(channel)).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseOnAWriteJustPastTheDrainLimit() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.request(0, 1, 1, 0, (32 << 20) + 512)));
        assertThat(Wire.inbound(channel)).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseOnBadMagicAndIgnoreWhatFollows() {
        EmbeddedChannel channel = channel();
        byte[] bad = Wire.request(0, 0, 1, 0, 512);
        bad[3] ^= 1;
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.request(0, 3, 9, 0, 0), bad,
                Wire.request(0, 0, 2, 0, 512))));
        assertThat(only(Wire.inbound(channel)).type()).isEqualTo(CommandType.FLUSH);
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldEmitNothingAndLeakNothingWhenAWritePayloadNeverCompletes() {
        EmbeddedChannel channel = channel();
        byte[] message = Wire.concat(Wire.request(0, 1, 1, 0, 2048), Wire.pattern(2048, 4));
        ByteBuf first = Unpooled.buffer().writeBytes(message, 0, 28 + 700);
        ByteBuf second = Unpooled.buffer().writeBytes(message, 28 + 700, 1000);
        channel.writeInbound(first);
        channel.writeInbound(second);
        assertThat(Wire.inbound(channel)).isEmpty();
        assertFalse(channel.finish());
        assertThat(first.refCnt()).isZero();
        assertThat(second.refCnt()).isZero();
    }

    @Test
    void shouldNotExpectAPayloadBehindPayloadLenOnAnythingButWrite() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(
                Wire.request(CommandFlag.PAYLOAD_LEN.bit(), 0, 1, 0, 512), Wire.request(0, 3, 2, 0, 0))));
        List<Object> out = Wire.inbound(channel);
        assertThat(out).extracting(o -> ((NbdRequest) o).cookie()).containsExactly(1L, 2L);
        assertThat(((NbdRequest) out.get(0)).has(CommandFlag.PAYLOAD_LEN)).isTrue();
        assertFalse(channel.finish());
    }

    @Test
    void shouldKeepThePayloadValidAfterMoreBytesArrive() {
        EmbeddedChannel channel = channel();
        byte[] payload = Wire.pattern(512, 8);
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.request(0, 1, 1, 0, 512), payload,
                java.util.Arrays.copyOf(Wire.request(0, 1, 2, 512, 512), 20))));
        NbdRequest first = only(Wire.inbound(channel));
        // The cumulation grows behind the slice we hold; the slice must not see it move.
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(
                java.util.Arrays.copyOfRange(Wire.request(0, 1, 2, 512, 512), 20, 28), Wire.pattern(512, 9))));
        NbdRequest second = only(Wire.inbound(channel));
        assertThat(ByteBufUtil.getBytes(first.payload())).isEqualTo(payload);
        assertThat(ByteBufUtil.getBytes(second.payload())).isEqualTo(Wire.pattern(512, 9));
        first.release();
        second.release();
        assertFalse(channel.finish());
    }
}
