package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Builds frame bytes by hand (independently of the code under test) and runs the codec in embedded channels. */
final class Frames {

    static final UUID ARRAY = UUID.fromString("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");

    private Frames() {
    }

    static byte[] bytes(Consumer<ByteBuf> writer) {
        ByteBuf buf = Unpooled.buffer();
        try {
            writer.accept(buf);
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] header(int magic, int version, int type, long bodyLength) {
        return bytes(b -> b.writeShort(magic).writeByte(version).writeByte(type).writeInt((int) bodyLength));
    }

    /** A well-formed header in front of {@code body}. */
    static byte[] frame(MessageType type, byte[] body) {
        return concat(header(0x5044, LinkFormat.VERSION, type.code(), body.length), body);
    }

    /** u16 length + UTF-8. */
    static byte[] string(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        return bytes(b -> b.writeShort(utf8.length).writeBytes(utf8));
    }

    /** A REQUEST or CATCH_UP_RECORD body, data included. */
    static byte[] ioBody(long seq, int command, int flags, long offset, long length, byte[] data) {
        return bytes(b -> b.writeLong(seq).writeByte(command).writeInt(flags).writeLong(offset).writeLong(length)
                .writeBytes(data));
    }

    static byte[] pattern(int length, int seed) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            data[i] = (byte) (i * 31 + seed);
        }
        return data;
    }

    static Hello hello(NodeKind kind, String nodeId, UUID array) {
        return Hello.create(kind, nodeId, array, "boot-" + nodeId, 4242, 2, 17, 16, 123_456_789L, nodeId + ":7400");
    }

    /** What the encoder writes for {@code message}; the message is released, as a channel would. */
    static byte[] encode(LinkMessage message) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameEncoder());
        channel.writeOutbound(message);
        byte[] bytes = outbound(channel);
        assertFalse(channel.finish());
        return bytes;
    }

    /** Everything written to {@code channel} so far, as bytes; the buffers are released. */
    static byte[] outbound(EmbeddedChannel channel) {
        // The link pipeline consolidates flushes: a flush outside a read runs as an event-loop task,
        // which an embedded channel runs only when asked.
        channel.runPendingTasks();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object m; (m = channel.readOutbound()) != null; ) {
            ByteBuf buf = (ByteBuf) m;
            out.writeBytes(ByteBufUtil.getBytes(buf));
            buf.release();
        }
        return out.toByteArray();
    }

    static List<Object> inbound(EmbeddedChannel channel) {
        List<Object> messages = new ArrayList<>();
        for (Object m; (m = channel.readInbound()) != null; ) {
            messages.add(m);
        }
        return messages;
    }

    /** Decodes {@code bytes} whole with a fresh decoder; the caller releases what it returns. */
    static List<Object> decode(byte[] bytes) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
        List<Object> messages = inbound(channel);
        assertFalse(channel.finish());
        return messages;
    }

    /**
     * Feeds {@code bytes[0,k)} then {@code bytes[k,n)} to a fresh decoder. The decoded messages are
     * returned; both input buffers must be fully released once they are.
     */
    static Split split(byte[] bytes, int k) {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        ByteBuf first = Unpooled.wrappedBuffer(bytes, 0, k);
        ByteBuf second = Unpooled.wrappedBuffer(bytes, k, bytes.length - k);
        channel.writeInbound(first);
        channel.writeInbound(second);
        return new Split(channel, inbound(channel), first, second);
    }

    record Split(EmbeddedChannel channel, List<Object> messages, ByteBuf first, ByteBuf second) {

        /** Releases the messages, finishes the channel, and checks nothing was left behind. */
        void finish() {
            messages.forEach(ReferenceCountUtil::release);
            assertFalse(channel.finish());
            // An empty part is Unpooled.EMPTY_BUFFER, which counts no references.
            if (first.capacity() > 0) {
                assertThat(first.refCnt()).as("first input buffer").isZero();
            }
            if (second.capacity() > 0) {
                assertThat(second.refCnt()).as("second input buffer").isZero();
            }
        }
    }
}
