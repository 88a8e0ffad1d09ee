package io.parityd.link;

import java.nio.charset.StandardCharsets;

/**
 * Which end of a connection a node is: the one that dialled, or the one that answered. The
 * handshake's MAC names the sender's side, so an AUTH proves "I hold the secret and dialled you"
 * or "... and answered you", never both: a relay that joins two nodes that both answered (or
 * both dialled) cannot hand each one the other's AUTH, as it could when the MAC covered only the
 * two HELLOs.
 */
public enum LinkSide {
    DIALS("dials"),
    ANSWERS("answers");

    private final byte[] tag;

    LinkSide(String tag) {
        this.tag = tag.getBytes(StandardCharsets.US_ASCII);
    }

    /** The side at the other end of the same connection. */
    public LinkSide other() {
        return this == DIALS ? ANSWERS : DIALS;
    }

    /** What goes into the MAC for this side. */
    byte[] tag() {
        return tag.clone();
    }
}
