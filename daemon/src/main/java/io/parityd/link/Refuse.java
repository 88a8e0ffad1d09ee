package io.parityd.link;

/** The sender will not keep this link, and says why; it closes the connection right after. */
public record Refuse(String reason) implements LinkMessage {

    public Refuse {
        LinkStrings.check("reason", reason);
    }

    @Override
    public MessageType type() {
        return MessageType.REFUSE;
    }
}
