package io.parityd.protocol;

import io.netty.channel.ChannelHandler;

/**
 * Supplies the handler that serves a connection once it enters the transmission phase. The
 * handshake installs the request decoder and reply encoder, then this handler after them: it
 * receives {@link NbdRequest} messages and writes {@link NbdReply} messages.
 */
@FunctionalInterface
public interface TransmissionHandlerFactory {

    /** Called on the connection's event loop right after the final handshake reply was written. */
    ChannelHandler newTransmissionHandler(Session session);

    /**
     * The memory every connection's requests share; the request decoder reserves from it and the
     * transmission handler gives back (see {@link PayloadMemory}). Unlimited unless the server says.
     */
    default PayloadMemory payloadMemory() {
        return PayloadMemory.UNLIMITED;
    }
}
