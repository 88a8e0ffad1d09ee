package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

class ReplyEncoderTest {

    private static final long COOKIE = 0x1122334455667788L;

    private static List<ByteBuf> encode(boolean structured, NbdReply reply) {
        EmbeddedChannel channel = new EmbeddedChannel(new ReplyEncoder(structured));
        channel.writeOutbound(reply);
        List<ByteBuf> out = new ArrayList<>();
        for (Object m; (m = channel.readOutbound()) != null; ) {
            out.add((ByteBuf) m);
        }
        assertFalse(channel.finish());
        return out;
    }

    private static byte[] bytesAndRelease(List<ByteBuf> buffers) {
        byte[][] parts = new byte[buffers.size()][];
        for (int i = 0; i < parts.length; i++) {
            parts[i] = ByteBufUtil.getBytes(buffers.get(i));
            buffers.get(i).release();
        }
        return Wire.concat(parts);
    }

    private static byte[] simple(int error) {
        return Wire.bytes(b -> b.writeInt(0x67446698).writeInt(error).writeLong(COOKIE));
    }

    private static byte[] chunk(int type, int length) {
        return Wire.bytes(b -> b.writeInt(0x668e33ef).writeShort(1).writeShort(type).writeLong(COOKIE).writeInt(length));
    }

    @Test
    void shouldSendSimpleReadHeaderThenTheSameDataBuffer() {
        byte[] content = Wire.pattern(4096, 6);
        ByteBuf data = Unpooled.directBuffer(4096).writeBytes(content);
        List<ByteBuf> out = encode(false, new ReadReply(COOKIE, 8192, data));
        assertThat(out).hasSize(2);
        assertThat(out.get(1)).isSameAs(data);
        assertThat(data.refCnt()).as("the reply's reference travels with the buffer").isEqualTo(1);
        assertThat(bytesAndRelease(out)).isEqualTo(Wire.concat(simple(0), content));
        assertThat(data.refCnt()).isZero();
    }

    @Test
    void shouldSendSimpleDoneAndError() {
        assertThat(bytesAndRelease(encode(false, new DoneReply(COOKIE)))).isEqualTo(simple(0));
        assertThat(bytesAndRelease(encode(false, new ErrorReply(COOKIE, NbdError.ENOSPC, "full"))))
                .isEqualTo(simple(28));
    }

    @Test
    void shouldSendAStructuredReadAsOneDoneOffsetDataChunkWithoutCopying() {
        byte[] content = Wire.pattern(512, 2);
        ByteBuf data = Unpooled.buffer(512).writeBytes(content);
        List<ByteBuf> out = encode(true, new ReadReply(COOKIE, 0xfffffffffffffe00L, data));
        assertThat(out).hasSize(2);
        assertThat(out.get(1)).isSameAs(data);
        assertThat(bytesAndRelease(out)).isEqualTo(Wire.concat(chunk(1, 8 + 512),
                Wire.bytes(b -> b.writeLong(0xfffffffffffffe00L)), content));
        assertThat(data.refCnt()).isZero();
    }

    @Test
    void shouldAnswerAZeroLengthStructuredReadWithANoneChunk() {
        ByteBuf data = Unpooled.buffer(0);
        assertThat(bytesAndRelease(encode(true, new ReadReply(COOKIE, 0, data)))).isEqualTo(chunk(0, 0));
        assertThat(data.refCnt()).isZero();
    }

    @Test
    void shouldAnswerAZeroLengthSimpleReadWithTheHeaderAlone() {
        ByteBuf data = Unpooled.buffer(0);
        assertThat(bytesAndRelease(encode(false, new ReadReply(COOKIE, 0, data)))).isEqualTo(simple(0));
        assertThat(data.refCnt()).isZero();
    }

    @Test
    void shouldSendAStructuredErrorChunkWithTheMessage() {
        String message = "read of 4096 bytes at 1073741824 ends past the export size 1073741824";
        byte[] utf8 = Wire.utf8(message);
        assertThat(bytesAndRelease(encode(true, new ErrorReply(COOKIE, NbdError.EINVAL, message)))).isEqualTo(
                Wire.concat(chunk(0x8001, 6 + utf8.length), Wire.bytes(b -> b.writeInt(22).writeShort(utf8.length)),
                        utf8));
        assertThat(bytesAndRelease(encode(true, new ErrorReply(COOKIE, NbdError.EIO, null)))).isEqualTo(
                Wire.concat(chunk(0x8001, 6), Wire.bytes(b -> b.writeInt(5).writeShort(0))));
    }

    @Test
    void shouldCutAStructuredErrorMessageTo4096BytesOnACharacterBoundary() {
        String message = "€".repeat(2000); // 3 bytes each: 6000 bytes, cut to 4095 = 1365 whole characters
        byte[] encoded = bytesAndRelease(encode(true, new ErrorReply(COOKIE, NbdError.EIO, message)));
        ByteBuf buf = Unpooled.wrappedBuffer(encoded);
        assertThat(buf.getInt(16)).isEqualTo(6 + 4095);
        assertThat(buf.getUnsignedShort(24)).isEqualTo(4095);
        assertThat(buf.toString(26, 4095, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("€".repeat(1365));
        assertThat(encoded).hasSize(20 + 6 + 4095);
    }

    @Test
    void shouldAnswerSuccessWithoutDataWithASimpleReplyEvenWhenStructured() {
        assertThat(bytesAndRelease(encode(true, new DoneReply(COOKIE)))).isEqualTo(simple(0));
    }

    @Test
    void shouldTakeItsModeFromTheSession() {
        Session session = new Session(FakeCatalog.DISK, true, 0x81, false);
        EmbeddedChannel channel = new EmbeddedChannel(new ReplyEncoder(session));
        channel.writeOutbound(new ErrorReply(COOKIE, NbdError.EPERM, ""));
        ByteBuf out = channel.readOutbound();
        assertThat(out.getInt(0)).isEqualTo(Nbd.STRUCTURED_REPLY_MAGIC);
        out.release();
        assertFalse(channel.finish());
    }
}
