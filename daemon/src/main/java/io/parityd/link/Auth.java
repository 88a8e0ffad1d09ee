package io.parityd.link;

import io.netty.buffer.ByteBufUtil;

import java.util.Arrays;

/**
 * Proof that the sender holds the shared secret: HMAC-SHA256 over both Hellos of this connection
 * ({@link LinkHandshake}). The MAC is copied in and out; equality compares its bytes.
 */
public record Auth(byte[] mac) implements LinkMessage {

    public Auth {
        if (mac == null || mac.length != LinkFormat.MAC_LENGTH) {
            throw new IllegalArgumentException("mac must be " + LinkFormat.MAC_LENGTH + " bytes, got "
                    + (mac == null ? "null" : mac.length));
        }
        mac = mac.clone();
    }

    @Override
    public byte[] mac() {
        return mac.clone();
    }

    /** The MAC without a copy, for the writer and the check. */
    byte[] macBytes() {
        return mac;
    }

    @Override
    public MessageType type() {
        return MessageType.AUTH;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Auth a && Arrays.equals(mac, a.mac);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(mac);
    }

    @Override
    public String toString() {
        return "Auth[mac=" + ByteBufUtil.hexDump(mac) + "]";
    }
}
