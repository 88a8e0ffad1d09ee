package io.parityd.link;

/** Every sequence number up to and including {@code throughSeq} is retired; what that allows is the caller's protocol. */
public record Retired(long throughSeq) implements LinkMessage {

    @Override
    public MessageType type() {
        return MessageType.RETIRED;
    }
}
