package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import io.parityd.protocol.Nbd.InfoType;
import io.parityd.protocol.Nbd.OptionReplyType;

import java.nio.charset.StandardCharsets;

/**
 * Writes {@link HandshakeReply} messages as bytes: the greeting (proto.md "Newstyle
 * negotiation"), the {@code NBD_OPT_EXPORT_NAME} reply, and option replies (proto.md "Fixed
 * newstyle negotiation", "Option reply types"). Removed with the rest of the handshake when the
 * client enters transmission.
 */
final class HandshakeEncoder extends MessageToByteEncoder<HandshakeReply> {

    /** u64 size, u16 transmission flags after the u16 info type. */
    private static final int INFO_EXPORT_LENGTH = 2 + 8 + 2;
    /** u16 info type, then minimum, preferred, maximum as u32. */
    private static final int INFO_BLOCK_SIZE_LENGTH = 2 + 3 * 4;

    HandshakeEncoder() {
        super(HandshakeReply.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, HandshakeReply reply, ByteBuf out) {
        if (reply instanceof HandshakeReply.Greeting g) {
            encodeGreeting(g, out);
        } else if (reply instanceof HandshakeReply.ExportNameReply e) {
            encodeExportName(e, out);
        } else if (reply instanceof HandshakeReply.Ack a) {
            header(out, a.option(), OptionReplyType.ACK, 0);
        } else if (reply instanceof HandshakeReply.Server s) {
            encodeServer(s, out);
        } else if (reply instanceof HandshakeReply.InfoExport i) {
            encodeInfoExport(i, out);
        } else if (reply instanceof HandshakeReply.InfoName n) {
            encodeInfoText(n.option(), InfoType.NAME, n.name(), out);
        } else if (reply instanceof HandshakeReply.InfoDescription d) {
            encodeInfoText(d.option(), InfoType.DESCRIPTION, d.description(), out);
        } else if (reply instanceof HandshakeReply.InfoBlockSize b) {
            encodeInfoBlockSize(b, out);
        } else if (reply instanceof HandshakeReply.Error e) {
            encodeError(e, out);
        }
    }

    private static void encodeGreeting(HandshakeReply.Greeting g, ByteBuf out) {
        out.writeLong(Nbd.NBDMAGIC);
        out.writeLong(Nbd.IHAVEOPT);
        out.writeShort(g.handshakeFlags());
    }

    private static void encodeExportName(HandshakeReply.ExportNameReply e, ByteBuf out) {
        out.writeLong(e.size());
        out.writeShort(e.transmissionFlags());
        if (e.zeroes()) {
            out.writeZero(Nbd.EXPORT_NAME_ZEROES);
        }
    }

    private static void encodeServer(HandshakeReply.Server s, ByteBuf out) {
        byte[] name = s.name().getBytes(StandardCharsets.UTF_8);
        byte[] description = WireString.bounded(s.description());
        header(out, s.option(), OptionReplyType.SERVER, 4 + name.length + description.length);
        out.writeInt(name.length);
        out.writeBytes(name);
        out.writeBytes(description);
    }

    private static void encodeInfoExport(HandshakeReply.InfoExport i, ByteBuf out) {
        header(out, i.option(), OptionReplyType.INFO, INFO_EXPORT_LENGTH);
        out.writeShort(InfoType.EXPORT.code());
        out.writeLong(i.size());
        out.writeShort(i.transmissionFlags());
    }

    private static void encodeInfoText(int option, InfoType type, String text, ByteBuf out) {
        byte[] utf8 = WireString.bounded(text);
        header(out, option, OptionReplyType.INFO, 2 + utf8.length);
        out.writeShort(type.code());
        out.writeBytes(utf8);
    }

    private static void encodeInfoBlockSize(HandshakeReply.InfoBlockSize b, ByteBuf out) {
        header(out, b.option(), OptionReplyType.INFO, INFO_BLOCK_SIZE_LENGTH);
        out.writeShort(InfoType.BLOCK_SIZE.code());
        out.writeInt(b.sizes().minimum());
        out.writeInt(b.sizes().preferred());
        out.writeInt(b.sizes().maximum());
    }

    private static void encodeError(HandshakeReply.Error e, ByteBuf out) {
        byte[] message = WireString.bounded(e.message());
        header(out, e.option(), e.type(), message.length);
        out.writeBytes(message);
    }

    private static void header(ByteBuf out, int option, OptionReplyType type, int length) {
        out.writeLong(Nbd.OPTION_REPLY_MAGIC);
        out.writeInt(option);
        out.writeInt(type.code());
        out.writeInt(length);
    }
}
