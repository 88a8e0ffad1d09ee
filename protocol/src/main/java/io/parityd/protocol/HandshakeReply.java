package io.parityd.protocol;

import io.parityd.protocol.Nbd.OptionReplyType;

/**
 * What the server sends during the handshake, by meaning; {@link HandshakeEncoder} owns the
 * byte layout. Every option reply echoes the option code the client sent ({@code option}), as
 * proto.md "Fixed newstyle negotiation" requires, even for options this server does not know.
 */
sealed interface HandshakeReply {

    /** NBDMAGIC, IHAVEOPT, 16-bit handshake flags: sent as soon as the connection is up. */
    record Greeting(int handshakeFlags) implements HandshakeReply {
    }

    /**
     * The only answer to a successful {@code NBD_OPT_EXPORT_NAME}: size, transmission flags, and
     * 124 zero bytes unless the client set {@code NBD_FLAG_C_NO_ZEROES}.
     */
    record ExportNameReply(long size, int transmissionFlags, boolean zeroes) implements HandshakeReply {
    }

    /** {@code NBD_REP_ACK}: no data. */
    record Ack(int option) implements HandshakeReply {
    }

    /** {@code NBD_REP_SERVER}: u32 name length, name, then the description as free text. */
    record Server(int option, String name, String description) implements HandshakeReply {
    }

    /** {@code NBD_REP_INFO} / {@code NBD_INFO_EXPORT}: size u64, transmission flags u16. */
    record InfoExport(int option, long size, int transmissionFlags) implements HandshakeReply {
    }

    /** {@code NBD_REP_INFO} / {@code NBD_INFO_NAME}: the canonical export name. */
    record InfoName(int option, String name) implements HandshakeReply {
    }

    /** {@code NBD_REP_INFO} / {@code NBD_INFO_DESCRIPTION}: text for humans. */
    record InfoDescription(int option, String description) implements HandshakeReply {
    }

    /** {@code NBD_REP_INFO} / {@code NBD_INFO_BLOCK_SIZE}: minimum, preferred, maximum u32. */
    record InfoBlockSize(int option, BlockSizes sizes) implements HandshakeReply {
    }

    /** An {@code NBD_REP_ERR_*} reply; the message travels as its data, for the client's user. */
    record Error(int option, OptionReplyType type, String message) implements HandshakeReply {

        public Error {
            if (!type.isError()) {
                throw new IllegalArgumentException("not an error reply type: " + type);
            }
        }
    }
}
