package io.parityd.protocol;

import io.netty.channel.embedded.EmbeddedChannel;
import io.parityd.protocol.Nbd.OptionReplyType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertFalse;

class HandshakeEncoderTest {

    private static byte[] encode(HandshakeReply reply) {
        EmbeddedChannel channel = new EmbeddedChannel(new HandshakeEncoder());
        channel.writeOutbound(reply);
        byte[] bytes = Wire.outbound(channel);
        assertFalse(channel.finish());
        return bytes;
    }

    private static byte[] replyHeader(int option, int type, int length) {
        return Wire.bytes(b -> b.writeLong(0x3e889045565a9L).writeInt(option).writeInt(type).writeInt(length));
    }

    @Test
    void shouldEncodeTheGreeting() {
        assertThat(encode(new HandshakeReply.Greeting(3))).isEqualTo(Wire.bytes(b ->
                b.writeBytes(Wire.utf8("NBDMAGIC")).writeBytes(Wire.utf8("IHAVEOPT")).writeShort(3)));
    }

    @Test
    void shouldEncodeTheExportNameReplyWithAndWithoutZeroes() {
        byte[] bare = Wire.bytes(b -> b.writeLong(1L << 30).writeShort(0x0d));
        assertThat(encode(new HandshakeReply.ExportNameReply(1L << 30, 0x0d, false))).isEqualTo(bare);
        assertThat(encode(new HandshakeReply.ExportNameReply(1L << 30, 0x0d, true)))
                .isEqualTo(Wire.concat(bare, new byte[124]));
    }

    @Test
    void shouldEncodeAck() {
        assertThat(encode(new HandshakeReply.Ack(7))).isEqualTo(replyHeader(7, 1, 0));
    }

    @Test
    void shouldEncodeServerWithNameAndDescription() {
        byte[] expected = Wire.concat(replyHeader(3, 2, 4 + 4 + 5),
                Wire.bytes(b -> b.writeInt(4)), Wire.utf8("disk"), Wire.utf8("fast!"));
        assertThat(encode(new HandshakeReply.Server(3, "disk", "fast!"))).isEqualTo(expected);
    }

    @Test
    void shouldEncodeEachInfo() {
        assertThat(encode(new HandshakeReply.InfoExport(6, 4096, 0x8b))).isEqualTo(Wire.concat(
                replyHeader(6, 3, 12), Wire.bytes(b -> b.writeShort(0).writeLong(4096).writeShort(0x8b))));
        assertThat(encode(new HandshakeReply.InfoName(6, "disk"))).isEqualTo(Wire.concat(
                replyHeader(6, 3, 6), Wire.bytes(b -> b.writeShort(1)), Wire.utf8("disk")));
        assertThat(encode(new HandshakeReply.InfoDescription(7, "été"))).isEqualTo(Wire.concat(
                replyHeader(7, 3, 2 + 5), Wire.bytes(b -> b.writeShort(2)), Wire.utf8("été")));
        assertThat(encode(new HandshakeReply.InfoBlockSize(7, new BlockSizes(512, 4096, 32 << 20)))).isEqualTo(
                Wire.concat(replyHeader(7, 3, 14),
                        Wire.bytes(b -> b.writeShort(3).writeInt(512).writeInt(4096).writeInt(32 << 20))));
    }

    @Test
    void shouldEncodeErrorsWithTheirMessage() {
        assertThat(encode(new HandshakeReply.Error(7, OptionReplyType.ERR_UNKNOWN, "no export named 'x'")))
                .isEqualTo(Wire.concat(replyHeader(7, 0x80000006, 19), Wire.utf8("no export named 'x'")));
        assertThat(encode(new HandshakeReply.Error(42, OptionReplyType.ERR_UNSUP, null)))
                .isEqualTo(replyHeader(42, 0x80000001, 0));
    }

    @Test
    void shouldCutLongMessagesOnACharacterBoundary() {
        String message = "x".repeat(4095) + "é" + "tail";
        List<Wire.OptionReply> replies = Wire.optionReplies(
                encode(new HandshakeReply.Error(1, OptionReplyType.ERR_INVALID, message)));
        assertThat(replies.get(0).data()).hasSize(4095);
        assertThat(replies.get(0).text()).isEqualTo("x".repeat(4095));
    }

    @Test
    void shouldRefuseToBuildAnErrorReplyOfANonErrorType() {
        assertThatThrownBy(() -> new HandshakeReply.Error(1, OptionReplyType.ACK, "no"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
