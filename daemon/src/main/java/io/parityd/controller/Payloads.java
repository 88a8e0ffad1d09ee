package io.parityd.controller;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.ByteBuffer;

/** Views of write payloads for the volume, which takes NIO buffers. */
final class Payloads {

    private Payloads() {
    }

    /**
     * The readable bytes of {@code data} as one NIO buffer: a view when they are contiguous (what
     * the NBD decoder and the link decoder hand over), a copy only when they are not.
     */
    static ByteBuffer nio(ByteBuf data) {
        return data.nioBufferCount() == 1 ? data.nioBuffer() : ByteBuffer.wrap(ByteBufUtil.getBytes(data));
    }
}
