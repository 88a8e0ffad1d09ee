package io.parityd.link;

/**
 * One frame's message ({@link LinkFormat}). The three that carry data ({@link Request}, {@link Reply},
 * {@link CatchUpRecord}) are {@link io.netty.buffer.ByteBufHolder}s: whoever holds one releases it.
 */
public sealed interface LinkMessage
        permits Hello, Auth, Refuse, Request, Reply, Heartbeat, Assign, Assigned, Received, Retired, Finished,
        CatchUpRecord, CatchUpEnd, CatchUpRequest, PreimageRecord, PreimageHeld, PeerLost, ArrayInfo {

    MessageType type();
}
