package io.parityd.link;

/**
 * The primary tells the front its standby stopped acknowledging writes (a link cut without a
 * reset never closes, so silence is all it sees); the front decides what follows.
 */
public record PeerLost(long epoch, String detail) implements LinkMessage {

    public PeerLost {
        LinkStrings.check("detail", detail);
    }

    @Override
    public MessageType type() {
        return MessageType.PEER_LOST;
    }
}
