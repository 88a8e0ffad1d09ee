package io.parityd.link;

/**
 * Liveness and position. {@code echoNanos} is meant to carry back the peer's last {@code sentNanos}
 * (a round-trip measure); role codes, epochs and leases mean what the caller's protocol says.
 */
public record Heartbeat(long sentNanos, long echoNanos, long epoch, int role, long highestSeq, long leaseMillis)
        implements LinkMessage {

    @Override
    public MessageType type() {
        return MessageType.HEARTBEAT;
    }
}
