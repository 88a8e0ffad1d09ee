package io.parityd.protocol;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;

import java.util.Arrays;

/**
 * A transmission handler over a byte array, for tests with real clients: validate, then execute,
 * exactly as the daemon's handler is meant to, minus the storage. Runs on the event loop, which
 * only a test may do.
 */
final class MemoryExportHandler extends SimpleChannelInboundHandler<NbdRequest> {

    private final Session session;
    private final byte[] disk;

    MemoryExportHandler(Session session, byte[] disk) {
        this.session = session;
        this.disk = disk;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, NbdRequest r) {
        Refusal refusal = RequestValidator.validate(r, session);
        if (r.type() == CommandType.DISC) {
            ctx.close();
        } else if (refusal != null) {
            ctx.writeAndFlush(new ErrorReply(r.cookie(), refusal.error(), refusal.reason()));
        } else {
            ctx.writeAndFlush(execute(r));
        }
    }

    private NbdReply execute(NbdRequest r) {
        int offset = (int) r.offset();
        int length = (int) r.length();
        switch (r.type()) {
            case READ:
                return new ReadReply(r.cookie(), r.offset(), Unpooled.copiedBuffer(disk, offset, length));
            case WRITE:
                r.payload().getBytes(r.payload().readerIndex(), disk, offset, length);
                return new DoneReply(r.cookie());
            case WRITE_ZEROES:
            case TRIM:
                Arrays.fill(disk, offset, offset + length, (byte) 0);
                return new DoneReply(r.cookie());
            default:
                return new DoneReply(r.cookie());
        }
    }
}
