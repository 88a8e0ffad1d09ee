package io.parityd.link;

/**
 * Asks a controller to take {@code role} in {@code epoch}, with the primary at {@code primaryAddress}
 * ("host:port", may be empty) and starting from sequence number {@code fromSeq}. Role codes and what
 * they mean belong to the caller.
 */
public record Assign(long epoch, int role, String primaryAddress, long fromSeq) implements LinkMessage {

    public Assign {
        LinkStrings.check("primaryAddress", primaryAddress);
    }

    @Override
    public MessageType type() {
        return MessageType.ASSIGN;
    }
}
