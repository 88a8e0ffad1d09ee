package io.parityd.link;

/**
 * A joining standby asks its primary for every request its journal holds that the front numbered
 * below {@code fromSeq} (the front streams the standby the rest); {@code epoch} is the epoch the
 * front assigned it at.
 */
public record CatchUpRequest(long epoch, long fromSeq) implements LinkMessage {

    @Override
    public MessageType type() {
        return MessageType.CATCH_UP_REQUEST;
    }
}
