package io.parityd.link;

/** The answer to an {@link Assign}: {@code detail} is empty on success, else why the role could not be taken. */
public record Assigned(long epoch, int role, long highestSeq, String detail) implements LinkMessage {

    public Assigned {
        LinkStrings.check("detail", detail);
    }

    @Override
    public MessageType type() {
        return MessageType.ASSIGNED;
    }
}
