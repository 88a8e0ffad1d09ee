package io.parityd.protocol;

/**
 * What a client and the server agreed during the handshake, fixed for the life of the
 * transmission phase.
 *
 * @param export            the export the client chose
 * @param structuredReplies the client negotiated {@code NBD_OPT_STRUCTURED_REPLY}
 * @param transmissionFlags the exact 16-bit flags field sent to the client
 * @param blockSizesAgreed  the client asked for {@code NBD_INFO_BLOCK_SIZE} with {@code NBD_OPT_GO},
 *                          so it promised to honour the constraints
 */
public record Session(ExportInfo export, boolean structuredReplies, int transmissionFlags, boolean blockSizesAgreed) {

    public boolean has(TransmissionFlag flag) {
        return (transmissionFlags & flag.bit()) != 0;
    }
}
