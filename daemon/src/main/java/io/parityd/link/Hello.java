package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * The first message each side of a link sends: who it is, which array it belongs to, where it
 * stands (role, epoch, highest sequence number), and a fresh nonce that makes this connection's
 * {@link Auth} unusable on any other. {@code address} is the "host:port" where peers reach this
 * node, or empty. {@code role} is opaque here: its codes belong to whoever assigns roles.
 *
 * <p>The nonce is copied in and out, so a Hello stays immutable; equality compares its bytes.
 */
public record Hello(NodeKind kind, String nodeId, UUID arrayUuid, String bootId, long pid, byte[] nonce,
                    int role, long epoch, long inSyncEpoch, long highestSeq, String address)
        implements LinkMessage {

    private static final SecureRandom RANDOM = new SecureRandom();

    public Hello {
        Objects.requireNonNull(kind, "kind");
        LinkStrings.check("nodeId", nodeId);
        Objects.requireNonNull(arrayUuid, "arrayUuid");
        LinkStrings.check("bootId", bootId);
        if (nonce == null || nonce.length != LinkFormat.NONCE_LENGTH) {
            throw new IllegalArgumentException("nonce must be " + LinkFormat.NONCE_LENGTH + " bytes, got "
                    + (nonce == null ? "null" : nonce.length));
        }
        nonce = nonce.clone();
        LinkStrings.check("address", address);
    }

    /** A Hello with a fresh random nonce. */
    public static Hello create(NodeKind kind, String nodeId, UUID arrayUuid, String bootId, long pid, int role,
                               long epoch, long inSyncEpoch, long highestSeq, String address) {
        return new Hello(kind, nodeId, arrayUuid, bootId, pid, freshNonce(), role, epoch, inSyncEpoch, highestSeq,
                address);
    }

    /** This Hello with a fresh random nonce: what {@link LinkHandshake} sends on each connection. */
    Hello withFreshNonce() {
        return new Hello(kind, nodeId, arrayUuid, bootId, pid, freshNonce(), role, epoch, inSyncEpoch, highestSeq,
                address);
    }

    private static byte[] freshNonce() {
        byte[] nonce = new byte[LinkFormat.NONCE_LENGTH];
        RANDOM.nextBytes(nonce);
        return nonce;
    }

    /**
     * The exact body {@link FrameEncoder} writes for {@code hello} (both use
     * {@link BodyWriter#writeHello}): what the handshake's MAC covers, so a peer's Hello is
     * authenticated byte for byte as it arrived.
     */
    public static byte[] canonicalBytes(Hello hello) {
        ByteBuf buf = Unpooled.buffer(128);
        try {
            BodyWriter.writeHello(hello, buf);
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    @Override
    public byte[] nonce() {
        return nonce.clone();
    }

    /** The nonce without a copy, for the writer. */
    byte[] nonceBytes() {
        return nonce;
    }

    @Override
    public MessageType type() {
        return MessageType.HELLO;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Hello h && kind == h.kind && nodeId.equals(h.nodeId) && arrayUuid.equals(h.arrayUuid)
                && bootId.equals(h.bootId) && pid == h.pid && Arrays.equals(nonce, h.nonce) && role == h.role
                && epoch == h.epoch && inSyncEpoch == h.inSyncEpoch && highestSeq == h.highestSeq
                && address.equals(h.address);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, nodeId, arrayUuid, bootId, pid, Arrays.hashCode(nonce), role, epoch, inSyncEpoch,
                highestSeq, address);
    }

    @Override
    public String toString() {
        return "Hello[kind=" + kind + ", nodeId=" + nodeId + ", arrayUuid=" + arrayUuid + ", bootId=" + bootId
                + ", pid=" + pid + ", nonce=" + ByteBufUtil.hexDump(nonce) + ", role=" + role + ", epoch=" + epoch
                + ", inSyncEpoch=" + inSyncEpoch + ", highestSeq=" + highestSeq + ", address=" + address + "]";
    }
}
