package io.parityd.link;

/** Ends a run of {@link CatchUpRecord}s: every record up to and including {@code throughSeq} was sent. */
public record CatchUpEnd(long throughSeq) implements LinkMessage {

    @Override
    public MessageType type() {
        return MessageType.CATCH_UP_END;
    }
}
