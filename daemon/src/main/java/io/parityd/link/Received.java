package io.parityd.link;

/** Acknowledges the request or catch-up record {@code seq}; what that promises is the caller's protocol. */
public record Received(long seq) implements LinkMessage {

    @Override
    public MessageType type() {
        return MessageType.RECEIVED;
    }
}
