package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.parityd.nvram.WriteFlags;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static io.parityd.link.Frames.bytes;
import static io.parityd.link.Frames.concat;
import static io.parityd.link.Frames.frame;
import static io.parityd.link.Frames.pattern;
import static io.parityd.link.Frames.string;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

@org.junit.jupiter.api.extension.ExtendWith(io.parityd.LeakCheck.class)
class FrameCodecTest {

    private static ByteBuf data(int length, int seed) {
        return Unpooled.wrappedBuffer(pattern(length, seed));
    }

    /** One fresh message of each kind worth telling apart; data-carrying ones are built on every call. */
    static Stream<Arguments> samples() {
        List<Arguments> samples = new ArrayList<>();
        add(samples, "HELLO", () -> new Hello(NodeKind.CONTROLLER, "ctl-ü-東京", Frames.ARRAY, "b00t", 1L << 40,
                pattern(32, 1), -1, Long.MAX_VALUE, Long.MIN_VALUE, 0, "[::1]:7400"));
        add(samples, "HELLO of a front, empty strings", () -> Frames.hello(NodeKind.FRONT, "", new UUID(0, 0)));
        add(samples, "AUTH", () -> new Auth(pattern(32, 7)));
        add(samples, "REFUSE", () -> new Refuse("no: ça ne va pas"));
        add(samples, "REFUSE, empty", () -> new Refuse(""));
        add(samples, "REQUEST READ", () -> new Request(1, Command.READ, WriteFlags.FAST_ONLY, 1L << 50, 1 << 25));
        add(samples, "REQUEST WRITE", () -> new Request(-2, Command.WRITE, WriteFlags.FUA, 4096, 515, data(515, 3)));
        add(samples, "REQUEST WRITE of nothing", () -> new Request(3, Command.WRITE, 0, 0, 0));
        add(samples, "REQUEST FLUSH", () -> new Request(4, Command.FLUSH, 0, 0, 0));
        add(samples, "REQUEST TRIM", () -> new Request(5, Command.TRIM, WriteFlags.MAY_DEALLOCATE, 512, 1 << 20));
        add(samples, "REQUEST WRITE_ZEROES", () -> new Request(6, Command.WRITE_ZEROES,
                WriteFlags.FUA | WriteFlags.MAY_DEALLOCATE | WriteFlags.FAST_ONLY, 0, 65536));
        add(samples, "REPLY with data", () -> new Reply(7, LinkFormat.STATUS_OK, "", data(300, 5)));
        add(samples, "REPLY ok, no data", () -> new Reply(8, LinkFormat.STATUS_OK, ""));
        add(samples, "REPLY failed", () -> new Reply(9, 5, "member sdc: EIO at 4096"));
        add(samples, "HEARTBEAT", () -> new Heartbeat(123_456_789_012L, -1, 3, 1, 99, 1500));
        add(samples, "ASSIGN", () -> new Assign(4, 2, "10.0.0.7:7400", 1000));
        add(samples, "ASSIGN without a primary", () -> new Assign(5, 1, "", 0));
        add(samples, "ASSIGNED", () -> new Assigned(4, 2, 1234, ""));
        add(samples, "ASSIGNED refused", () -> new Assigned(4, 0, 12, "journal behind: 12 < 1000"));
        add(samples, "RECEIVED", () -> new Received(Long.MAX_VALUE));
        add(samples, "RETIRED", () -> new Retired(77));
        add(samples, "FINISHED", () -> new Finished(new long[] {1, 5, Long.MAX_VALUE}));
        add(samples, "FINISHED, none", () -> new Finished(new long[0]));
        add(samples, "CATCH_UP_RECORD WRITE", () -> new CatchUpRecord(10, Command.WRITE, WriteFlags.FUA, 8192, 200,
                data(200, 9)));
        add(samples, "CATCH_UP_RECORD TRIM", () -> new CatchUpRecord(11, Command.TRIM, 0, 0, 4096));
        add(samples, "CATCH_UP_END", () -> new CatchUpEnd(11));
        add(samples, "CATCH_UP_REQUEST", () -> new CatchUpRequest(7, 1));
        add(samples, "CATCH_UP_RECORD of a commands journal", () -> new CatchUpRecord(9, Command.WRITE,
                LinkFormat.FLAG_COMMAND_ONLY | WriteFlags.FUA, 4096, 1L << 20));
        add(samples, "PREIMAGE", () -> new PreimageRecord(5, 1L << 33, 1L << 20, data(4096 + 24, 9)));
        add(samples, "PREIMAGE_HELD", () -> new PreimageHeld(5));
        add(samples, "PEER_LOST", () -> new PeerLost(3, "the standby is silent: ça arrive"));
        add(samples, "ARRAY_INFO", () -> new ArrayInfo(Frames.ARRAY, "vol0", 3L << 30, "parityd RAID-5 volume 'vol0'"));
        return samples.stream();
    }

    private static void add(List<Arguments> samples, String name, Supplier<LinkMessage> message) {
        samples.add(Arguments.of(Named.of(name, message)));
    }

    @Test
    void shouldHaveASampleOfEveryType() {
        Set<MessageType> covered = EnumSet.noneOf(MessageType.class);
        samples().forEach(a -> {
            @SuppressWarnings("unchecked")
            LinkMessage m = ((Named<Supplier<LinkMessage>>) a.get()[0]).getPayload().get();
            covered.add(m.type());
            ReferenceCountUtil.release(m);
        });
        assertThat(covered).containsExactlyInAnyOrder(MessageType.values());
    }

    @ParameterizedTest
    @MethodSource("samples")
    void shouldRoundTripSplitAtEveryByte(Supplier<LinkMessage> sample) {
        LinkMessage expected = sample.get();
        byte[] wire = Frames.encode(ReferenceCountUtil.retain(expected));
        // Every byte of the first and last 256 (headers, fields, the payload's edges); inside a
        // long payload every 61st, which tells nothing new and took 28 s for a 4 KiB preimage.
        for (int k = 0; k <= wire.length; k = k < 256 || k >= wire.length - 256 ? k + 1 : k + 61) {
            Frames.Split split = Frames.split(wire, k);
            assertThat(split.messages()).as("split at %d", k).containsExactly(expected);
            split.finish();
        }
        ReferenceCountUtil.release(expected);
    }

    @Test
    void shouldRoundTripAOneMebibyteWriteSplitAtHundredsOfBoundaries() {
        int length = 1 << 20;
        Request expected = new Request(42, Command.WRITE, WriteFlags.FUA, 1L << 40, length, data(length, 11));
        byte[] wire = Frames.encode(expected.retain());
        assertThat(wire).hasSize(8 + 29 + length);
        List<Integer> cuts = new ArrayList<>();
        for (int k = 0; k <= 40; k++) {
            cuts.add(k); // every byte of header and fields
        }
        for (int k = 41; k < wire.length; k += 4099) {
            cuts.add(k);
        }
        cuts.add(wire.length - 1);
        cuts.add(wire.length);
        for (int k : cuts) {
            Frames.Split split = Frames.split(wire, k);
            assertThat(split.messages()).as("split at %d", k).hasSize(1);
            Request r = (Request) split.messages().get(0);
            assertThat(r.seq()).isEqualTo(42);
            assertThat(r.length()).isEqualTo(length);
            assertThat(r.content()).as("split at %d", k).isEqualTo(expected.content());
            split.finish();
        }
        assertThat(cuts).hasSizeGreaterThan(250);
        expected.release();
        assertThat(expected.refCnt()).isZero();
    }

    @Test
    void shouldRoundTripFramesBackToBackSplitAtEveryByte() {
        List<LinkMessage> expected = List.of(Frames.hello(NodeKind.FRONT, "front-1", Frames.ARRAY),
                new Request(1, Command.WRITE, 0, 0, 300, data(300, 1)), new Received(1),
                new Reply(1, 0, "", data(20, 2)), new Request(2, Command.FLUSH, 0, 0, 0), new Retired(1));
        byte[] wire = new byte[0];
        for (LinkMessage m : expected) {
            wire = concat(wire, Frames.encode(ReferenceCountUtil.retain(m)));
        }
        for (int k = 0; k <= wire.length; k++) {
            Frames.Split split = Frames.split(wire, k);
            assertThat(split.messages()).as("split at %d", k).containsExactlyElementsOf(expected);
            split.finish();
        }
        expected.forEach(ReferenceCountUtil::release);
    }

    @Test
    void shouldWriteARequestAsLinkFormatDocumentsIt() {
        byte[] expected = concat(
                new byte[]{0x50, 0x44, 2, 10, 0, 0, 0, 33},
                bytes(b -> b.writeLong(0x0102030405060708L).writeByte(1).writeInt(WriteFlags.FUA).writeLong(4096).writeLong(4)),
                new byte[]{9, 8, 7, 6});
        byte[] wire = Frames.encode(new Request(0x0102030405060708L, Command.WRITE, WriteFlags.FUA, 4096, 4,
                Unpooled.wrappedBuffer(new byte[]{9, 8, 7, 6})));
        assertThat(wire).isEqualTo(expected);
    }

    @Test
    void shouldWriteAHelloAsLinkFormatDocumentsItAndAsItsCanonicalBytes() {
        byte[] nonce = pattern(32, 4);
        UUID array = new UUID(0x1122334455667788L, 0x99aabbccddeeff00L);
        Hello hello = new Hello(NodeKind.CONTROLLER, "c1", array, "boot", 77, nonce, 3, 10, 9, 500, "h:1");
        byte[] body = concat(new byte[]{2}, string("c1"),
                bytes(b -> b.writeLong(0x1122334455667788L).writeLong(0x99aabbccddeeff00L)), string("boot"),
                bytes(b -> b.writeLong(77)), nonce, bytes(b -> b.writeInt(3).writeLong(10).writeLong(9).writeLong(500)),
                string("h:1"));
        assertThat(Hello.canonicalBytes(hello)).isEqualTo(body);
        assertThat(Frames.encode(hello)).isEqualTo(frame(MessageType.HELLO, body));
    }

    @Test
    void shouldSendDataAsItsOwnBufferWithoutCopying() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameEncoder());
        ByteBuf data = data(4096, 6);
        channel.writeOutbound(new Reply(5, 0, "", data));
        ByteBuf header = channel.readOutbound();
        ByteBuf payload = channel.readOutbound();
        assertThat(header.readableBytes()).isEqualTo(8 + 8 + 4 + 2);
        assertThat(header.getInt(LinkFormat.LENGTH_OFFSET)).isEqualTo(8 + 4 + 2 + 4096);
        assertThat(payload).isSameAs(data);
        header.release();
        payload.release();
        assertThat(data.refCnt()).isZero();
        assertFalse(channel.finish());
    }

    @Test
    void shouldSendAMessageWithoutDataAsOneBuffer() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameEncoder());
        channel.writeOutbound(new Request(1, Command.READ, 0, 0, 4096));
        ByteBuf frame = channel.readOutbound();
        assertThat(frame.readableBytes()).isEqualTo(8 + 29);
        assertThat((Object) channel.readOutbound()).isNull();
        frame.release();
        assertFalse(channel.finish());
    }

    @Test
    void shouldDecodeDataAsASliceOfWhatArrived() {
        byte[] wire = Frames.encode(new Request(1, Command.WRITE, 0, 0, 64, data(64, 8)));
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        channel.writeInbound(Unpooled.wrappedBuffer(wire));
        Request r = channel.readInbound();
        wire[wire.length - 1] ^= (byte) 0xff;
        assertThat(r.content().getByte(63)).as("the data shares the memory that was read").isEqualTo(wire[wire.length - 1]);
        r.release();
        assertFalse(channel.finish());
    }

    @Test
    void shouldKeepDecodedDataIntactWhileMoreBytesArrive() {
        byte[] first = Frames.encode(new Request(1, Command.WRITE, 0, 0, 512, data(512, 1)));
        byte[] second = Frames.encode(new Request(2, Command.WRITE, 0, 512, 512, data(512, 2)));
        byte[] wire = concat(first, second);
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        channel.writeInbound(Unpooled.wrappedBuffer(wire, 0, first.length + 20));
        Request held = channel.readInbound();
        for (int at = first.length + 20; at < wire.length; at += 100) {
            channel.writeInbound(Unpooled.wrappedBuffer(wire, at, Math.min(100, wire.length - at)));
            assertThat(ByteBufUtil.getBytes(held.content())).as("after %d bytes", at).isEqualTo(pattern(512, 1));
        }
        Request next = channel.readInbound();
        assertThat(ByteBufUtil.getBytes(next.content())).isEqualTo(pattern(512, 2));
        held.release();
        next.release();
        assertFalse(channel.finish());
    }
}
