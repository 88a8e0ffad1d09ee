package io.parityd.attach;

import io.parityd.protocol.ClientText;
import io.parityd.protocol.Nbd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The client side of the fixed-newstyle handshake (proto.md), on a blocking socket descriptor:
 * {@code NBD_OPT_GO} for one export, without structured replies, as the kernel's client
 * negotiates (the driver understands simple replies only). What the server says about the
 * export (size, transmission flags) is what the kernel is configured with.
 */
final class ClientHandshake {

    /** The export as the server described it. */
    record Export(long size, int transmissionFlags) {
    }

    private ClientHandshake() {
    }

    static Export go(int fd, String exportName) throws IOException {
        ByteBuffer greeting = Sockets.readFully(fd, 18, "the server's greeting");
        if (greeting.getLong() != Nbd.NBDMAGIC || greeting.getLong() != Nbd.IHAVEOPT) {
            throw new IOException("not an NBD server speaking the newstyle handshake (bad greeting)");
        }
        int serverFlags = greeting.getShort() & 0xffff;
        if (!Nbd.HandshakeFlag.FIXED_NEWSTYLE.in(serverFlags)) {
            throw new IOException("the server does not offer the fixed newstyle handshake");
        }
        int clientFlags = Nbd.ClientFlag.FIXED_NEWSTYLE.code()
                | (Nbd.HandshakeFlag.NO_ZEROES.in(serverFlags) ? Nbd.ClientFlag.NO_ZEROES.code() : 0);
        byte[] name = exportName.getBytes(StandardCharsets.UTF_8);
        ByteBuffer go = ByteBuffer.allocate(4 + Nbd.OPTION_HEADER_LENGTH + 4 + name.length + 2)
                .putInt(clientFlags)
                .putLong(Nbd.IHAVEOPT).putInt(Nbd.OptionType.GO.code()).putInt(4 + name.length + 2)
                .putInt(name.length).put(name).putShort((short) 0)
                .flip();
        Sockets.writeFully(fd, go, "NBD_OPT_GO");

        long size = -1;
        int flags = 0;
        while (true) {
            ByteBuffer header = Sockets.readFully(fd, 20, "the reply to NBD_OPT_GO");
            long magic = header.getLong();
            int option = header.getInt();
            int type = header.getInt();
            int length = header.getInt();
            if (magic != Nbd.OPTION_REPLY_MAGIC || option != Nbd.OptionType.GO.code()) {
                throw new IOException("bad reply to NBD_OPT_GO (magic 0x" + Long.toHexString(magic) + ", option " + option + ")");
            }
            if (length > Nbd.MAX_STRING_LENGTH + 64) {
                throw new IOException("reply to NBD_OPT_GO too long: " + length + " bytes");
            }
            ByteBuffer data = length == 0 ? ByteBuffer.allocate(0) : Sockets.readFully(fd, length, "NBD_OPT_GO's reply data");
            Nbd.OptionReplyType reply = Nbd.OptionReplyType.fromCode(type);
            if (reply == Nbd.OptionReplyType.ACK) {
                break;
            }
            if ((type & 0x80000000) != 0) {
                byte[] message = new byte[data.remaining()];
                data.get(message);
                // The server's text reaches our log: escaped, like any text a peer chose.
                throw new IOException("the server refused export '" + exportName + "': " + reply + " "
                        + ClientText.quote(new String(message, StandardCharsets.UTF_8)));
            }
            if (reply == Nbd.OptionReplyType.INFO && length >= 12 && (data.getShort(0) & 0xffff) == Nbd.InfoType.EXPORT.code()) {
                size = data.getLong(2);
                flags = data.getShort(10) & 0xffff;
            }
        }
        if (size < 0) {
            throw new IOException("the server acknowledged NBD_OPT_GO without describing the export");
        }
        return new Export(size, flags);
    }
}
