package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

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
 * <p>Memory: before a WRITE's payload buffer is allocated, or a READ is handed on (its reply will
 * need a buffer of its length), the decoder reserves that many bytes of the server's
 * {@link PayloadMemory}; the request carries the reservation ({@link NbdRequest#reserved}) to
 * whoever answers it. If the reservation does not fit, the decoder parks the parsed header, fires
 * {@link PayloadMemory.Wait#WAITING} so the connection stops reading, and goes on with
 * {@link PayloadMemory.Wait#GRANTED} once memory came back.
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


    private enum State { HEADER, WAIT_MEMORY, PAYLOAD, FILL, DRAIN, BROKEN }

    private final int maxPayload;
    private final long drainLimit;
    private final PayloadMemory memory;
    /** Memory reserved for the request being decoded, not yet handed on with it. */
    private long reserved;
    private boolean removed;

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
    private final ConnectionLogs logs;

    /** @param maxPayload the largest WRITE payload accepted: the export's {@link BlockSizes#maximum()} */
    public RequestDecoder(int maxPayload) {
        this(maxPayload, new PayloadReceiver(), PayloadMemory.UNLIMITED);
    }

    /** With a memory budget shared with other connections. */
    public RequestDecoder(int maxPayload, PayloadMemory memory) {
        this(maxPayload, new PayloadReceiver(), memory);
    }

    /**
     * With the receiver whose allocator wrapper the channel has used since it was accepted
     * ({@link NbdServerPipeline#install} sets it up: channels fix their read allocator at their
     * first read, so it cannot be swapped in here).
     */
    RequestDecoder(int maxPayload, PayloadReceiver receiver, PayloadMemory memory) {
        this(maxPayload, receiver, memory, ConnectionLogs.create());
    }

    /** As above, logging a broken stream through the server's {@code logs}. */
    RequestDecoder(int maxPayload, PayloadReceiver receiver, PayloadMemory memory, ConnectionLogs logs) {
        this.receiver = receiver;
        this.memory = memory;
        this.logs = logs;
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
        removed = true;
        releasePayload();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        removed = true;
        releasePayload(); // a client that vanished mid-payload leaves nothing behind
        super.channelInactive(ctx);
    }

    private void releasePayload() {
        receiver.clear();
        if (payload != null) {
            payload.release();
            payload = null;
        }
        giveBack();
    }

    private void giveBack() {
        long bytes = reserved;
        reserved = 0;
        memory.release(bytes);
    }

    /** Longest WRITE that is drained rather than answered with a hard disconnect. */
    public long drainLimit() {
        return drainLimit;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HEADER -> decodeHeader(ctx, in, out);
            case WAIT_MEMORY -> { } // the bytes wait in the cumulation until memory is granted
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
        long need = memoryFor(type, length);
        if (!memory.reserve(need, () -> memoryFreed(ctx))) {
            state = State.WAIT_MEMORY;
            ctx.fireUserEventTriggered(PayloadMemory.Wait.WAITING);
            return;
        }
        reserved = need;
        route(ctx, in, out);
    }

    /**
     * What a request needs while it is served: a WRITE's payload, a READ's reply data; nothing for
     * other commands, or for a length over the maximum (it is refused without a buffer).
     */
    private long memoryFor(int type, long length) {
        boolean carries = type == CommandType.WRITE.code() || type == CommandType.READ.code();
        return carries && length <= maxPayload ? length : 0;
    }

    /** Memory came back somewhere (any thread): ask again on this connection's loop. */
    private void memoryFreed(ChannelHandlerContext ctx) {
        try {
            ctx.executor().execute(() -> retryMemory(ctx));
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // the loop is gone, and the connection with it
        }
    }

    private void retryMemory(ChannelHandlerContext ctx) {
        if (state != State.WAIT_MEMORY || removed) {
            return;
        }
        long need = memoryFor(type, length);
        if (!memory.reserve(need, () -> memoryFreed(ctx))) {
            return;
        }
        reserved = need;
        ctx.fireUserEventTriggered(PayloadMemory.Wait.GRANTED);
        // The parked header goes on from where it stopped, over what was read behind it.
        ByteBuf in = internalBuffer();
        List<Object> out = new java.util.ArrayList<>(1);
        route(ctx, in, out);
        out.forEach(ctx::fireChannelRead);
        if (in.isReadable() && !removed) {
            try {
                channelRead(ctx, Unpooled.EMPTY_BUFFER); // decodes the requests that followed it
            } catch (Exception e) {
                ctx.fireExceptionCaught(e);
            }
        }
    }

    /** The parsed header's request, its memory reserved: hand it on, or read its payload. */
    private void route(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        state = State.HEADER;
        if (type != CommandType.WRITE.code()) {
            out.add(new NbdRequest(type, flags, cookie, offset, length, Unpooled.EMPTY_BUFFER, false, takeReserved()));
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
            out.add(new NbdRequest(type, flags, cookie, offset, length, whole, false, takeReserved()));
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
        return new NbdRequest(type, flags, cookie, offset, length, whole, false, takeReserved());
    }

    /** The reservation goes with the request handed on. */
    private long takeReserved() {
        long r = reserved;
        reserved = 0;
        return r;
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
        logs.problems().log("{}: transmission protocol violation, closing: {}", ctx.channel().remoteAddress(), why);
        state = State.BROKEN;
        in.skipBytes(in.readableBytes());
        ctx.close();
    }
}
