package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** Builds client bytes and reads server bytes for codec tests, independently of the code under test. */
final class Wire {

    private Wire() {
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

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] clientFlags(int bits) {
        return bytes(b -> b.writeInt(bits));
    }

    static byte[] option(int code, byte[] data) {
        return bytes(b -> b.writeLong(Nbd.IHAVEOPT).writeInt(code).writeInt(data.length).writeBytes(data));
    }

    /** NBD_OPT_INFO / NBD_OPT_GO data: name length, name, count, info types. */
    static byte[] infoData(String name, int... infoTypes) {
        byte[] n = utf8(name);
        return bytes(b -> {
            b.writeInt(n.length).writeBytes(n).writeShort(infoTypes.length);
            for (int t : infoTypes) {
                b.writeShort(t);
            }
        });
    }

    static byte[] request(int flags, int type, long cookie, long offset, long length) {
        return bytes(b -> b.writeInt(Nbd.REQUEST_MAGIC).writeShort(flags).writeShort(type).writeLong(cookie)
                .writeLong(offset).writeInt((int) length));
    }

    static byte[] pattern(int length, int seed) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            data[i] = (byte) (i * 31 + seed);
        }
        return data;
    }

    /** Writes {@code message[0,k)} then {@code message[k,n)} into a fresh channel and returns what came out, plus the channel. */
    static Split split(Supplier<EmbeddedChannel> channels, byte[] message, int k) {
        EmbeddedChannel channel = channels.get();
        channel.writeInbound(Unpooled.wrappedBuffer(message, 0, k));
        channel.writeInbound(Unpooled.wrappedBuffer(message, k, message.length - k));
        return new Split(channel, inbound(channel));
    }

    record Split(EmbeddedChannel channel, List<Object> messages) {

        void release() {
            messages.forEach(ReferenceCountUtil::release);
        }
    }

    static List<Object> inbound(EmbeddedChannel channel) {
        List<Object> messages = new ArrayList<>();
        for (Object m; (m = channel.readInbound()) != null; ) {
            messages.add(m);
        }
        return messages;
    }

    /** Everything the server wrote so far, as bytes; the buffers are released. */
    static byte[] outbound(EmbeddedChannel channel) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object m; (m = channel.readOutbound()) != null; ) {
            ByteBuf buf = (ByteBuf) m;
            out.writeBytes(ByteBufUtil.getBytes(buf));
            buf.release();
        }
        return out.toByteArray();
    }

    /** One option reply as the client would parse it. */
    record OptionReply(int option, int type, byte[] data) {

        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof OptionReply r && r.option == option && r.type == type
                    && java.util.Arrays.equals(r.data, data);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * option + type) + java.util.Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "OptionReply[option=" + option + ", type=0x" + Integer.toHexString(type) + ", data="
                    + java.util.Arrays.toString(data) + "]";
        }
    }

    /** Parses a run of option replies; fails on anything that is not one. */
    static List<OptionReply> optionReplies(byte[] bytes) {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        List<OptionReply> replies = new ArrayList<>();
        while (buf.isReadable()) {
            long magic = buf.readLong();
            if (magic != Nbd.OPTION_REPLY_MAGIC) {
                throw new AssertionError("not an option reply: magic 0x" + Long.toHexString(magic));
            }
            int option = buf.readInt();
            int type = buf.readInt();
            byte[] data = new byte[buf.readInt()];
            buf.readBytes(data);
            replies.add(new OptionReply(option, type, data));
        }
        return replies;
    }
}
