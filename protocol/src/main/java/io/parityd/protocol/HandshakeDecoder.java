package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.parityd.protocol.Nbd.ClientFlag;

import java.util.List;

/**
 * Decodes what a client sends during the handshake (proto.md "Newstyle negotiation" and "Fixed
 * newstyle negotiation"): the 32-bit client flags, then option requests ({@code IHAVEOPT},
 * option u32, length u32, data), each emitted whole as a {@link ClientFlags} or an
 * {@link OptionRequest}. At most one message leaves per {@code decode} call, so the handler can
 * remove this decoder after the final option and the bytes behind it stay in the cumulation, which
 * {@link ByteToMessageDecoder#handlerRemoved} hands to the transmission decoder.
 *
 * <p>No option is decoded while the channel is not writable: its replies would only pile up
 * behind the ones the client is not reading. The bytes wait here until {@link HandshakeGuard}
 * sees the replies drain. Once the connection is closed, whatever the client pipelined is skipped.
 *
 * <p>A broken stream closes the connection: unknown client flags (the spec says the server MUST
 * drop the connection), a missing {@code IHAVEOPT}, or option data longer than
 * {@value #MAX_OPTION_LENGTH} bytes (no option this server understands needs more; buffering more
 * would let a client make us hold memory before we have even chosen to listen).
 */
final class HandshakeDecoder extends ByteToMessageDecoder {

    /** Longest option data accepted; longer closes the connection. */
    static final int MAX_OPTION_LENGTH = 64 * 1024;

    private enum State { CLIENT_FLAGS, OPTION_HEADER, OPTION_DATA, BROKEN }

    private final ConnectionLogs logs;
    private State state = State.CLIENT_FLAGS;
    private int optionCode;
    private int optionLength;

    HandshakeDecoder(ConnectionLogs logs) {
        this.logs = logs;
    }

    /** Bytes received and not decoded yet (see HandshakeHandler's STARTTLS). */
    int buffered() {
        return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!ctx.channel().isActive()) {
            in.skipBytes(in.readableBytes());
            return;
        }
        switch (state) {
            case CLIENT_FLAGS -> decodeClientFlags(ctx, in, out);
            case OPTION_HEADER -> {
                if (ctx.channel().isWritable()) {
                    decodeOptionHeader(ctx, in, out);
                }
            }
            case OPTION_DATA -> decodeOptionData(in, out);
            case BROKEN -> in.skipBytes(in.readableBytes());
        }
    }

    private void decodeClientFlags(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 4) {
            return;
        }
        int bits = in.readInt();
        int unknown = ClientFlag.unknownBits(bits);
        if (unknown != 0) {
            fail(ctx, in, String.format("client flags 0x%08x carry unknown bits 0x%08x", bits, unknown));
            return;
        }
        state = State.OPTION_HEADER;
        out.add(new ClientFlags(bits));
    }

    private void decodeOptionHeader(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < Nbd.OPTION_HEADER_LENGTH) {
            return;
        }
        long magic = in.readLong();
        if (magic != Nbd.IHAVEOPT) {
            fail(ctx, in, String.format("option magic 0x%016x is not IHAVEOPT", magic));
            return;
        }
        optionCode = in.readInt();
        long length = in.readUnsignedInt();
        if (length > MAX_OPTION_LENGTH) {
            fail(ctx, in, "option " + Integer.toUnsignedString(optionCode) + " carries " + length
                    + " bytes of data, more than the " + MAX_OPTION_LENGTH + " this server accepts");
            return;
        }
        optionLength = (int) length;
        state = State.OPTION_DATA;
        // An option without data must leave now: no further bytes may come to trigger another decode.
        decodeOptionData(in, out);
    }

    private void decodeOptionData(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < optionLength) {
            return;
        }
        ByteBuf data = optionLength == 0 ? Unpooled.EMPTY_BUFFER : in.readRetainedSlice(optionLength);
        state = State.OPTION_HEADER;
        out.add(new OptionRequest(optionCode, data));
    }

    /** The stream cannot be followed any more: say why, drop what is buffered, hang up. */
    private void fail(ChannelHandlerContext ctx, ByteBuf in, String why) {
        logs.problems().log("{}: handshake protocol violation, closing: {}", ctx.channel().remoteAddress(), why);
        state = State.BROKEN;
        in.skipBytes(in.readableBytes());
        ctx.close();
    }
}
