package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertFalse;

class RequestDecoderTest {

    private static final int MAX = 4096;

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(new RequestDecoder(MAX));
    }

    private static NbdRequest only(List<Object> messages) {
        assertThat(messages).hasSize(1);
        return (NbdRequest) messages.get(0);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 2, 3, 4, 5, 6, 7, 8, 42, 0xffff})
    void shouldDecodeEveryCommandWithoutPayloadSplitAtEveryByte(int type) {
        byte[] message = Wire.request(0x0011, type, 0x0102030405060708L, 0xfffffffffffff000L, 0xfffffe00L);
        for (int k = 0; k <= message.length; k++) {
            Wire.Split split = Wire.split(RequestDecoderTest::channel, message, k);
            NbdRequest r = only(split.messages());
            assertThat(r.typeCode()).as("split at %d", k).isEqualTo(type);
            assertThat(r.type()).isEqualTo(CommandType.fromCode(type));
            assertThat(r.flags()).isEqualTo(0x0011);
            assertThat(r.cookie()).isEqualTo(0x0102030405060708L);
            assertThat(r.offset()).isEqualTo(0xfffffffffffff000L);
            assertThat(r.length()).isEqualTo(0xfffffe00L);
            assertThat(r.payloadDropped()).isFalse();
            assertThat(r.payload().readableBytes()).isZero();
            split.release();
            assertFalse(split.channel().finish());
        }
    }

    @Test
    void shouldDecodeAWriteSplitAtEveryByte() {
        byte[] payload = Wire.pattern(1024, 9);
        byte[] message = Wire.concat(Wire.request(1, 1, 77, 512, 1024), payload);
        for (int k = 0; k <= message.length; k++) {
            Wire.Split split = Wire.split(RequestDecoderTest::channel, message, k);
            NbdRequest r = only(split.messages());
            assertThat(r.type()).as("split at %d", k).isEqualTo(CommandType.WRITE);
            assertThat(r.has(CommandFlag.FUA)).isTrue();
            assertThat(r.cookie()).isEqualTo(77);
            assertThat(r.offset()).isEqualTo(512);
            assertThat(r.length()).isEqualTo(1024);
            assertThat(ByteBufUtil.getBytes(r.payload())).isEqualTo(payload);
            split.release();
            assertFalse(split.channel().finish());
        }
    }

    @Test
    void shouldNeverTouchAPayloadAnotherThreadStillHolds() {
        // Two writes arrive in pieces; the first payload is handed on (an I/O thread would be
        // writing it to the members) while the second one's bytes keep coming. Whatever the
        // cumulator does with its buffers, the first payload's bytes must stay as they were.
        EmbeddedChannel channel = channel();
        byte[] first = Wire.pattern(MAX, 1);
        byte[] second = Wire.pattern(MAX, 2);
        byte[] stream = Wire.concat(Wire.request(0, 1, 1, 0, MAX), first, Wire.request(0, 1, 2, MAX, MAX), second);
        int cut = 28 + MAX + 28 + 100;
        channel.writeInbound(Unpooled.wrappedBuffer(stream, 0, cut));
        NbdRequest held = channel.readInbound();
        assertThat(ByteBufUtil.getBytes(held.payload())).isEqualTo(first);
        for (int at = cut; at < stream.length; at += 333) {
            channel.writeInbound(Unpooled.wrappedBuffer(stream, at, Math.min(333, stream.length - at)));
            assertThat(ByteBufUtil.getBytes(held.payload())).as("first payload after %d bytes", at).isEqualTo(first);
        }
        NbdRequest next = channel.readInbound();
        assertThat(ByteBufUtil.getBytes(next.payload())).isEqualTo(second);
        held.release();
        next.release();
        assertFalse(channel.finish());
    }

    @Test
    void shouldGiveALargePayloadOneBufferOfItsFinalSize() {
        // Netty's merge cumulator would double its buffer as the payload streams in, copying it
        // again each time; the decoder allocates the payload's own buffer once instead.
        CountingAllocator alloc = new CountingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setAllocator(alloc);
        channel.pipeline().addLast(new RequestDecoder(1 << 20));
        byte[] payload = Wire.pattern(1 << 20, 3);
        byte[] stream = Wire.concat(Wire.request(0, 1, 9, 0, 1 << 20), payload);
        for (int at = 0; at < stream.length; at += 65536) {
            channel.writeInbound(Unpooled.wrappedBuffer(stream, at, Math.min(65536, stream.length - at)));
        }
        NbdRequest r = channel.readInbound();
        assertThat(ByteBufUtil.getBytes(r.payload())).isEqualTo(payload);
        assertThat(alloc.allocations).as("buffers allocated for one 1 MiB payload").isEqualTo(1);
        r.release();
        assertFalse(channel.finish());
    }

    @Test
    void shouldReadTheRestOfAPayloadStraightIntoItsBuffer() {
        // What the event loop does with the directing allocator: ask the handle for a buffer, let
        // the "socket" write into it, fire it. The bytes must land in the payload buffer itself.
        PayloadReceiver receiver = new PayloadReceiver();
        EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder(1 << 20, receiver, PayloadMemory.UNLIMITED));
        io.netty.channel.RecvByteBufAllocator.Handle handle =
                receiver.wrap(new io.netty.channel.AdaptiveRecvByteBufAllocator()).newHandle();
        byte[] payload = Wire.pattern(300_000, 5);
        byte[] head = Wire.concat(Wire.request(0, 1, 11, 4096, payload.length), java.util.Arrays.copyOf(payload, 1000));
        channel.writeInbound(Unpooled.wrappedBuffer(head));
        assertThat((Object) channel.readInbound()).as("incomplete payload not emitted").isNull();

        int at = 1000;
        ByteBuf first = null;
        long firstAddress = 0;
        while (at < payload.length) {
            ByteBuf read = handle.allocate(channel.alloc());
            assertThat(read.writableBytes()).as("reads are bounded by what the payload still needs").isEqualTo(payload.length - at);
            int n = Math.min(65_000, payload.length - at);
            read.writeBytes(payload, at, n);
            at += n;
            if (first == null) {
                first = read;
                assertThat(read.hasMemoryAddress()).isTrue();
                firstAddress = read.memoryAddress() - at + n; // where byte 0 of the payload lives
            }
            channel.writeInbound(read);
        }
        NbdRequest r = channel.readInbound();
        assertThat(r.cookie()).isEqualTo(11);
        assertThat(ByteBufUtil.getBytes(r.payload())).isEqualTo(payload);
        assertThat(r.payload().memoryAddress()).as("the payload is the memory the reads went into").isEqualTo(firstAddress);
        assertThat(receiver.bytesInPlace()).isEqualTo(payload.length - 1000);
        ByteBuf after = handle.allocate(channel.alloc());
        boolean insidePayload = after.memoryAddress() >= firstAddress && after.memoryAddress() < firstAddress + payload.length;
        assertThat(insidePayload).as("no payload expected any more: an ordinary read buffer").isFalse();
        after.release();
        r.release();
        assertFalse(channel.finish());
    }

    @Test
    void shouldReleaseAHalfReadPayloadWhenTheClientGoes() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.request(0, 1, 1, 0, MAX), new byte[100])));
        assertThat((Object) channel.readInbound()).isNull();
        channel.close();
        // Paranoid leak detection fails the build if the partial payload buffer was not released.
        assertFalse(channel.finish());
    }

    /** Counts the buffers the decoder asks for. */
    private static final class CountingAllocator extends io.netty.buffer.AbstractByteBufAllocator {
        int allocations;

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            allocations++;
            return Unpooled.directBuffer(initialCapacity, maxCapacity);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            allocations++;
            return Unpooled.buffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }
    }

    @Test
    void shouldAcceptAPayloadOfExactlyTheMaximum() {
        EmbeddedChannel channel = channel();
        byte[] payload = Wire.pattern(MAX, 1);
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.request(0, 1, 1, 0, MAX), payload)));
        NbdRequest r = only(Wire.inbound(channel));
        assertThat(r.payloadDropped()).isFalse();
        assertThat(ByteBufUtil.getBytes(r.payload())).isEqualTo(payload);
        r.release();
        assertFalse(channel.finish());
    }

    @Test
    void shouldEmitAZeroLengthWriteAtOnce() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.request(0, 1, 5, 0, 0)));
        NbdRequest r = only(Wire.inbound(channel));
        assertThat(r.type()).isEqualTo(CommandType.WRITE);
        assertThat(r.payload().readableBytes()).isZero();
        r.release();
        assertFalse(channel.finish());
    }

    @Test
    void shouldDrainAnOversizedWriteAndStayInStepSplitAtEveryByte() {
        byte[] message = Wire.concat(Wire.request(0, 1, 21, 0, MAX + 512), Wire.pattern(MAX + 512, 2),
                Wire.request(0, 0, 22, 4096, 512));
        for (int k = 0; k <= message.length; k++) {
            Wire.Split split = Wire.split(RequestDecoderTest::channel, message, k);
            List<Object> out = split.messages();
            assertThat(out).as("split at %d", k).hasSize(2);
            NbdRequest dropped = (NbdRequest) out.get(0);
            assertThat(dropped.type()).isEqualTo(CommandType.WRITE);
            assertThat(dropped.cookie()).isEqualTo(21);
            assertThat(dropped.length()).isEqualTo(MAX + 512);
            assertThat(dropped.payloadDropped()).isTrue();
            assertThat(dropped.payload().readableBytes()).isZero();
            NbdRequest next = (NbdRequest) out.get(1);
            assertThat(next.type()).isEqualTo(CommandType.READ);
            assertThat(next.cookie()).isEqualTo(22);
            assertThat(next.offset()).isEqualTo(4096);
            split.release();
            assertFalse(split.channel().finish());
        }
    }

    @Test
    void shouldNotBufferADrainedPayload() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.request(0, 1, 1, 0, 3 * MAX)));
        for (int i = 0; i < 3; i++) {
            ByteBuf chunk = Unpooled.buffer(MAX).writeBytes(new byte[MAX]);
            channel.writeInbound(chunk);
            assertThat(chunk.refCnt()).as("chunk %d is consumed, not kept", i).isZero();
        }
        assertThat(only(Wire.inbound(channel)).payloadDropped()).isTrue();
        assertFalse(channel.finish());
    }

    @Test
    void shouldDrainUpTo32MiBEvenWhenTheMaximumIsSmaller() {
        assertThat(new RequestDecoder(MAX).drainLimit()).isEqualTo(32 << 20);
        assertThat(new RequestDecoder(32 << 20).drainLimit()).isEqualTo(64L << 20);
        assertThatThrownBy(() -> new RequestDecoder(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldCloseOnAnAbsurdWriteLength() {
        EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder(32 << 20));
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.request(0, 1, 1, 0, 3L * (32 << 20)),
                new byte[1000])));
        assertThat(Wire.inbound(channel)).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseOnAWriteJustPastTheDrainLimit() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.request(0, 1, 1, 0, (32 << 20) + 512)));
        assertThat(Wire.inbound(channel)).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldCloseOnBadMagicAndIgnoreWhatFollows() {
        EmbeddedChannel channel = channel();
        byte[] bad = Wire.request(0, 0, 1, 0, 512);
        bad[3] ^= 1;
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.request(0, 3, 9, 0, 0), bad,
                Wire.request(0, 0, 2, 0, 512))));
        assertThat(only(Wire.inbound(channel)).type()).isEqualTo(CommandType.FLUSH);
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finish());
    }

    @Test
    void shouldEmitNothingAndLeakNothingWhenAWritePayloadNeverCompletes() {
        EmbeddedChannel channel = channel();
        byte[] message = Wire.concat(Wire.request(0, 1, 1, 0, 2048), Wire.pattern(2048, 4));
        ByteBuf first = Unpooled.buffer().writeBytes(message, 0, 28 + 700);
        ByteBuf second = Unpooled.buffer().writeBytes(message, 28 + 700, 1000);
        channel.writeInbound(first);
        channel.writeInbound(second);
        assertThat(Wire.inbound(channel)).isEmpty();
        assertFalse(channel.finish());
        assertThat(first.refCnt()).isZero();
        assertThat(second.refCnt()).isZero();
    }

    @Test
    void shouldNotExpectAPayloadBehindPayloadLenOnAnythingButWrite() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(
                Wire.request(CommandFlag.PAYLOAD_LEN.bit(), 0, 1, 0, 512), Wire.request(0, 3, 2, 0, 0))));
        List<Object> out = Wire.inbound(channel);
        assertThat(out).extracting(o -> ((NbdRequest) o).cookie()).containsExactly(1L, 2L);
        assertThat(((NbdRequest) out.get(0)).has(CommandFlag.PAYLOAD_LEN)).isTrue();
        assertFalse(channel.finish());
    }

    @Test
    void shouldKeepThePayloadValidAfterMoreBytesArrive() {
        EmbeddedChannel channel = channel();
        byte[] payload = Wire.pattern(512, 8);
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.request(0, 1, 1, 0, 512), payload,
                java.util.Arrays.copyOf(Wire.request(0, 1, 2, 512, 512), 20))));
        NbdRequest first = only(Wire.inbound(channel));
        // The cumulation grows behind the slice we hold; the slice must not see it move.
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(
                java.util.Arrays.copyOfRange(Wire.request(0, 1, 2, 512, 512), 20, 28), Wire.pattern(512, 9))));
        NbdRequest second = only(Wire.inbound(channel));
        assertThat(ByteBufUtil.getBytes(first.payload())).isEqualTo(payload);
        assertThat(ByteBufUtil.getBytes(second.payload())).isEqualTo(Wire.pattern(512, 9));
        first.release();
        second.release();
        assertFalse(channel.finish());
    }
}
