package io.parityd.protocol;

import java.util.Set;

/**
 * What the server tells a client about one export: its name (what {@code NBD_OPT_GO} and
 * {@code NBD_OPT_LIST} carry), a description for humans, its size in bytes, its block size
 * constraints and the features it supports. {@link TransmissionFlag#HAS_FLAGS} is implied;
 * {@link TransmissionFlag#SEND_DF} is added by the handshake only when structured replies
 * were negotiated, as the spec requires.
 */
public record ExportInfo(String name, String description, long size, BlockSizes blockSizes,
                         Set<TransmissionFlag> flags) {

    public ExportInfo {
        flags = Set.copyOf(flags);
        if (size < 0) {
            throw new IllegalArgumentException("export size must not be negative: " + size);
        }
    }
}
