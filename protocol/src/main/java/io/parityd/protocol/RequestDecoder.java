package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Decodes transmission-phase requests (proto.md "Request message"): a 28-byte header, and for
 * {@code NBD_CMD_WRITE} the payload, emitted as one {@link NbdRequest} only once it is complete
 * (block buffering: a client that vanishes mid-payload leaves nothing behind). Only WRITE carries a
 * payload; extended headers are never negotiated, so {@code NBD_CMD_FLAG_PAYLOAD_LEN} does not add
 * one (the validator refuses the flag).
 *
 * <p>Three sizes of WRITE:
 * <ul>
 *   <li>up to {@code maxPayload}: buffered and emitted with a retained slice as content;</li>
 *   <li>up to the drain limit: read and discarded as it streams in, never held whole, then emitted
 *       with {@link NbdRequest#payloadDropped()} set and empty content, so the handler can reply
 *       {@code EINVAL} and the stream stays in step;</li>
 *   <li>beyond: a length no client means; the connection is closed (the spec allows a hard
 *       disconnect for a payload "large enough to be deemed a denial of service attack").</li>
 * </ul>
 * The drain limit is {@code 2 × maxPayload}, but never below 2^25 bytes: the spec says a length under
 * 32 MiB SHOULD NOT be treated as an attack even when the advertised maximum is smaller.
 *
 * <p>A header without {@code NBD_REQUEST_MAGIC} means the stream is lost: the connection is closed.
 *
 * <p>Buffering: a payload that arrived whole with its header is a retained slice of what was
 * read. Otherwise, as soon as the header is parsed, the payload gets its own buffer at its final
 * size, and the rest of it is read by the kernel straight into that buffer through
 * {@link PayloadReceiver} (installed on the channel by {@link NbdServerPipeline}), or copied into
 * it once from ordinary reads. Netty's merge cumulator would instead grow a buffer by doubling
 * and copy every byte at least once more, on the one thread that reads this connection.
 */
public final class RequestDecoder extends ByteToMessageDecoder {

    /** Lengths below this are never an attack (proto.md "Block size constraints"). */
    public static final long MIN_DRAIN_LIMIT = 1L << 25;

    private static final Logger LOG = LoggerFactory.getLogger(RequestDecoder.class);

    private enum State { HEADER, PAYLOAD, FILL, DRAIN, BROKEN }

    private final int maxPayload;
    private final long drainLimit;

    private State state = State.HEADER;
    private int flags;
    private int type;
    private long cookie;
    private long offset;
    private long length;
    private long drainRemaining;
    /** In state FILL: the payload buffer being filled, owned here until emitted. */
    private ByteBuf payload;
    private final PayloadReceiver receiver;

    /** @param maxPayload the largest WRITE payload accepted: the export's {@link BlockSizes#maximum()} */
    public RequestDecoder(int maxPayload) {
        this(maxPayload, new PayloadReceiver());
    }

    /**
     * With the receiver whose allocator wrapper the channel has used since it was accepted
     * ({@link NbdServerPipeline#install} sets it up: channels fix their read allocator at their
     * first read, so it cannot be swapped in here).
     */
    RequestDecoder(int maxPayload, PayloadReceiver receiver) {
        this.receiver = receiver;
        if (maxPayload <= 0) {
            throw new IllegalArgumentException("maximum payload must be positive: " + maxPayload);
        }
        this.maxPayload = maxPayload;
        this.drainLimit = Math.max(2L * maxPayload, MIN_DRAIN_LIMIT);
    }

    /** A read that landed in the payload buffer needs no decoding, only accounting. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (receiver.owns(msg)) {
            ByteBuf landed = (ByteBuf) msg;
            payload.writerIndex(payload.writerIndex() + landed.readableBytes());
            receiver.landed(landed.readableBytes());
            landed.release();
            if (!payload.isWritable()) {
                ctx.fireChannelRead(completePayload());
            }
            return;
        }
        super.channelRead(ctx, msg);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        releasePayload();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        releasePayload(); // a client that vanished mid-payload leaves nothing behind
        super.channelInactive(ctx);
    }

    private void releasePayload() {
        receiver.clear();
        if (payload != null) {
            payload.release();
            payload = null;
        }
    }

    /** Longest WRITE that is drained rather than answered with a hard disconnect. */
    public long drainLimit() {
        return drainLimit;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HEADER -> decodeHeader(ctx, in, out);
            case PAYLOAD -> decodePayload(ctx, in, out);
            case FILL -> decodeFill(in, out);
            case DRAIN -> decodeDrain(in, out);
            case BROKEN -> in.skipBytes(in.readableBytes());
        }
    }

    private void decodeHeader(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < Nbd.REQUEST_HEADER_LENGTH) {
            return;
        }
        int magic = in.readInt();
        if (magic != Nbd.REQUEST_MAGIC) {
            fail(ctx, in, String.format("request magic 0x%08x is not NBD_REQUEST_MAGIC", magic));
            return;
        }
        flags = in.readUnsignedShort();
        type = in.readUnsignedShort();
        cookie = in.readLong();
        offset = in.readLong();
        length = in.readUnsignedInt();
        if (type != CommandType.WRITE.code()) {
            out.add(new NbdRequest(type, flags, cookie, offset, length));
        } else if (length > drainLimit) {
            fail(ctx, in, "WRITE of " + length + " bytes is beyond any sane length (limit " + drainLimit + ")");
        } else if (length > maxPayload) {
            state = State.DRAIN;
            drainRemaining = length;
            decodeDrain(in, out);
        } else {
            state = State.PAYLOAD;
            decodePayload(ctx, in, out);
        }
    }

    private void decodePayload(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() >= length) {
            ByteBuf whole = length == 0 ? Unpooled.EMPTY_BUFFER : in.readRetainedSlice((int) length);
            state = State.HEADER;
            out.add(new NbdRequest(type, flags, cookie, offset, length, whole, false));
            return;
        }
        // The rest is still on its way: give it its final buffer now, and have it read into place.
        payload = ctx.alloc().directBuffer((int) length, (int) length);
        payload.writeBytes(in);
        receiver.expect(payload);
        state = State.FILL;
    }

    /** Payload bytes that came through an ordinary read buffer (no directing allocator): copy them once. */
    private void decodeFill(ByteBuf in, List<Object> out) {
        payload.writeBytes(in, Math.min(in.readableBytes(), payload.writableBytes()));
        if (!payload.isWritable()) {
            out.add(completePayload());
        }
    }

    private NbdRequest completePayload() {
        ByteBuf whole = payload;
        payload = null;
        receiver.clear();
        state = State.HEADER;
        return new NbdRequest(type, flags, cookie, offset, length, whole, false);
    }

    private void decodeDrain(ByteBuf in, List<Object> out) {
        int skip = (int) Math.min(in.readableBytes(), drainRemaining);
        in.skipBytes(skip);
        drainRemaining -= skip;
        if (drainRemaining == 0) {
            state = State.HEADER;
            out.add(new NbdRequest(type, flags, cookie, offset, length, Unpooled.EMPTY_BUFFER, true));
        }
    }

    /** The stream cannot be followed any more: say why, drop what is buffered, hang up. */
    private void fail(ChannelHandlerContext ctx, ByteBuf in, String why) {
        LOG.warn("{}: transmission protocol violation, closing: {}", ctx.channel().remoteAddress(), why);
        state = State.BROKEN;
        in.skipBytes(in.readableBytes());
        ctx.close();
    }
}
