package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.parityd.protocol.Nbd.OptionType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

class HandshakeDecoderTest {

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(new HandshakeDecoder(ConnectionLogs.create()));
    }

    @Test
    void shouldDecodeClientFlagsSplitAtEveryByte() {
        byte[] message = Wire.clientFlags(0x3);
        for (int k = 0; k <= message.length; k++) {
            Wire.Split split = Wire.split(HandshakeDecoderTest::channel, message, k);
            assertThat(split.messages()).as("split at %d", k).containsExactly(new ClientFlags(3));
            assertFalse(split.channel().finish());
        }
    }

    @Test
    void shouldDecodeFlagsAndOptionWithDataSplitAtEveryByte() {
        byte[] data = Wire.infoData("disk", 3, 1);
        byte[] message = Wire.concat(Wire.clientFlags(1), Wire.option(OptionType.GO.code(), data));
        for (int k = 0; k <= message.length; k++) {
            Wire.Split split = Wire.split(HandshakeDecoderTest::channel, message, k);
            List<Object> out = split.messages();
            assertThat(out).as("split at %d", k).hasSize(2);
            assertThat(out.get(0)).isEqualTo(new ClientFlags(1));
            OptionRequest option = (OptionRequest) out.get(1);
            assertThat(option.option()).isEqualTo(OptionType.GO);
            assertThat(option.code()).isEqualTo(7);
            assertThat(ByteBufUtil.getBytes(option.data())).isEqualTo(data);
            split.release();
            assertFalse(split.channel().finish());
        }
    }

    @Test
    void shouldDecodeOptionWithoutDataSplitAtEveryByte() {
        byte[] options = Wire.option(OptionType.LIST.code(), new byte[0]);
        byte[] message = Wire.concat(Wire.clientFlags(1), options);
        for (int k = 0; k <= message.length; k++) {
            Wire.Split split = Wire.split(HandshakeDecoderTest::channel, message, k);
            assertThat(split.messages()).as("split at %d", k).hasSize(2);
            OptionRequest option = (OptionRequest) split.messages().get(1);
            assertThat(option.option()).isEqualTo(OptionType.LIST);
            assertThat(option.data().readableBytes()).isZero();
            split.release();
            assertFalse(split.channel().finish());
        }
    }

    @Test
    void shouldKeepTheRawCodeOfAnUnknownOption() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.clientFlags(1),
                Wire.option(0x7fff0001, new byte[] {1, 2, 3}))));
        List<Object> out = Wire.inbound(channel);
        OptionRequest option = (OptionRequest) out.get(1);
        assertThat(option.option()).isEqualTo(OptionType.UNKNOWN);
        assertThat(option.code()).isEqualTo(0x7fff0001);
        option.release();
        assertFalse(channel.finish());
    }

    @Test
    void shouldDecodeSeveralOptionsInOneBuffer() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.clientFlags(3),
                Wire.option(8, new byte[0]), Wire.option(3, new byte[0]), Wire.option(99, new byte[10]))));
        List<Object> out = Wire.inbound(channel);
        assertThat(out).hasSize(4);
        assertThat(out.subList(1, 4)).extracting(o -> ((OptionRequest) o).code()).containsExactly(8, 3, 99);
        out.subList(1, 4).forEach(o -> ((OptionRequest) o).release());
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseOnUnknownClientFlags() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.clientFlags(0x4 | 0x1),
                Wire.option(3, new byte[0]))));
        assertThat(Wire.inbound(channel)).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseOnBadOptionMagicAndIgnoreWhatFollows() {
        EmbeddedChannel channel = channel();
        byte[] garbage = Wire.bytes(b -> b.writeLong(0x4e42444d41474943L).writeInt(7).writeInt(0));
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.clientFlags(1), garbage,
                Wire.option(3, new byte[0]))));
        assertThat(Wire.inbound(channel)).containsExactly(new ClientFlags(1));
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldAcceptOptionDataOfExactlyTheLimit() {
        EmbeddedChannel channel = channel();
        byte[] data = Wire.pattern(HandshakeDecoder.MAX_OPTION_LENGTH, 5);
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.clientFlags(1), Wire.option(99, data))));
        List<Object> out = Wire.inbound(channel);
        OptionRequest option = (OptionRequest) out.get(1);
        assertThat(ByteBufUtil.getBytes(option.data())).isEqualTo(data);
        option.release();
        assertThat(channel.isOpen()).isTrue();
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseOnOptionDataAboveTheLimitWithoutWaitingForIt() {
        EmbeddedChannel channel = channel();
        byte[] header = Wire.bytes(b -> b.writeLong(Nbd.IHAVEOPT).writeInt(6)
                .writeInt(HandshakeDecoder.MAX_OPTION_LENGTH + 1));
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.clientFlags(1), header)));
        assertThat(Wire.inbound(channel)).containsExactly(new ClientFlags(1));
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldReleaseAHalfReceivedOptionWhenTheClientGoesAway() {
        EmbeddedChannel channel = channel();
        ByteBuf first = Unpooled.buffer().writeBytes(Wire.clientFlags(1));
        ByteBuf second = Unpooled.buffer().writeBytes(Wire.option(99, new byte[100]), 0, 16 + 40);
        channel.writeInbound(first, second);
        assertThat(Wire.inbound(channel)).containsExactly(new ClientFlags(1));
        assertFalse(channel.finish());
        assertThat(first.refCnt()).isZero();
        assertThat(second.refCnt()).isZero();
    }
}
