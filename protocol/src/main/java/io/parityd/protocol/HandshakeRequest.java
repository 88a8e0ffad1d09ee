package io.parityd.protocol;

/**
 * What a client sends during the handshake (proto.md "Newstyle negotiation", "Fixed newstyle
 * negotiation"), as the {@link HandshakeDecoder} hands it to the {@link HandshakeHandler}: first
 * the client flags, then one option request after another.
 */
sealed interface HandshakeRequest permits ClientFlags, OptionRequest {
}
