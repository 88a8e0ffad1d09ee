package io.parityd.link;

/** The standby holds the {@link PreimageRecord} {@code id} durably: the primary may touch its stripe. */
public record PreimageHeld(long id) implements LinkMessage {

    @Override
    public MessageType type() {
        return MessageType.PREIMAGE_HELD;
    }
}
