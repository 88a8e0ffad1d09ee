package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.parityd.nvram.WriteFlags;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static io.parityd.link.Frames.ARRAY;
import static io.parityd.link.Frames.pattern;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The messages' own rules, which hold before anything reaches the wire. */
@org.junit.jupiter.api.extension.ExtendWith(io.parityd.LeakCheck.class)
class LinkMessagesTest {

    @Test
    void shouldKeepTheWireCodes() {
        assertThat(MessageType.values()).extracting(MessageType::code)
                .containsExactly(1, 2, 3, 10, 11, 20, 21, 22, 30, 31, 32, 40, 41, 42, 43, 44, 50, 51);
        assertThat(NodeKind.values()).extracting(NodeKind::code).containsExactly(1, 2);
        assertThat(Command.values()).extracting(Command::code).containsExactly(0, 1, 2, 3, 4);
        assertThat(new int[]{WriteFlags.FUA, WriteFlags.MAY_DEALLOCATE, WriteFlags.FAST_ONLY})
                .containsExactly(1, 2, 4);
        assertThat(LinkFormat.MAX_BODY).isEqualTo(33 * 1024 * 1024);
    }

    @ParameterizedTest
    @EnumSource(MessageType.class)
    void shouldFindEveryTypeByItsCode(MessageType type) {
        assertThat(MessageType.fromCode(type.code())).isSameAs(type);
    }

    @Test
    void shouldRefuseUnknownCodes() {
        assertThatThrownBy(() -> MessageType.fromCode(99)).hasMessage("unknown message type 99");
        assertThatThrownBy(() -> MessageType.fromCode(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NodeKind.fromCode(0)).hasMessage("unknown node kind 0");
        assertThatThrownBy(() -> Command.fromCode(5)).hasMessage("unknown command 5");
        assertThat(Command.fromCode(4)).isEqualTo(Command.WRITE_ZEROES);
    }

    @Test
    void shouldRefuseAWriteWhoseDataDiffersFromItsLength() {
        ByteBuf data = Unpooled.wrappedBuffer(new byte[100]);
        assertThatThrownBy(() -> new Request(1, Command.WRITE, 0, 0, 512, data))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("WRITE of length 512 carries 100 bytes of data");
        assertThatThrownBy(() -> new CatchUpRecord(1, Command.WRITE, 0, 0, 512, data))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("WRITE of length 512");
        assertThatThrownBy(() -> new Request(1, Command.WRITE, 0, 0, 512))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("carries 0 bytes");
        assertThat(data.refCnt()).as("a refused buffer stays the caller's").isEqualTo(1);
        data.release();
    }

    @Test
    void shouldRefuseDataOnAnythingButAWrite() {
        ByteBuf data = Unpooled.wrappedBuffer(new byte[4]);
        assertThatThrownBy(() -> new Request(1, Command.READ, 0, 0, 4, data))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("READ carries no data, got 4 bytes");
        assertThatThrownBy(() -> new Reply(1, 5, "EIO", data))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("status 5 carries no data");
        data.release();
    }

    @Test
    void shouldRefuseStringsOverTheLimitCountingUtf8Bytes() {
        assertThat(new Refuse("€".repeat(341)).reason()).hasSize(341); // 1023 bytes
        assertThatThrownBy(() -> new Refuse("€".repeat(342)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("reason is 1026 bytes in UTF-8, over the limit of 1024");
        assertThatThrownBy(() -> new Assigned(1, 1, 1, "x".repeat(1025))).hasMessageContaining("detail is 1025 bytes");
        assertThatThrownBy(() -> new Assign(1, 1, null, 1)).hasMessageContaining("primaryAddress is null");
    }

    @Test
    void shouldCutARefusalReasonOnACharacterBoundary() {
        String cut = LinkStrings.bounded("é".repeat(600)); // 1200 bytes
        assertThat(cut).isEqualTo("é".repeat(512));
        assertThat(LinkStrings.bounded("short")).isEqualTo("short");
    }

    @Test
    void shouldHoldANonceOfExactly32BytesAndCompareItByValue() {
        byte[] nonce = pattern(32, 1);
        Hello a = new Hello(NodeKind.FRONT, "f", ARRAY, "b", 1, nonce, 0, 0, 0, 0, "");
        Hello b = new Hello(NodeKind.FRONT, "f", ARRAY, "b", 1, pattern(32, 1), 0, 0, 0, 0, "");
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a.toString()).contains(io.netty.buffer.ByteBufUtil.hexDump(nonce));
        nonce[0]++;
        a.nonce()[1]++;
        assertThat(a).as("the nonce was copied in and out").isEqualTo(b);
        assertThat(a).isNotEqualTo(new Hello(NodeKind.FRONT, "f", ARRAY, "b", 1, nonce, 0, 0, 0, 0, ""));
        assertThatThrownBy(() -> new Hello(NodeKind.FRONT, "f", ARRAY, "b", 1, new byte[31], 0, 0, 0, 0, ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("nonce must be 32 bytes, got 31");
        assertThatThrownBy(() -> new Auth(new byte[33])).hasMessage("mac must be 32 bytes, got 33");
        assertThat(new Auth(pattern(32, 2))).isEqualTo(new Auth(pattern(32, 2)));
    }

    @Test
    void shouldFillAFreshNonceOnCreate() {
        Hello a = Frames.hello(NodeKind.CONTROLLER, "c", ARRAY);
        Hello b = Frames.hello(NodeKind.CONTROLLER, "c", ARRAY);
        assertThat(a.nonce()).hasSize(32).isNotEqualTo(b.nonce());
    }

    @Test
    void shouldCountReferencesOnTheData() {
        ByteBuf data = Unpooled.buffer(8).writeLong(7);
        Request request = new Request(1, Command.WRITE, WriteFlags.FUA, 0, 8, data);
        assertThat(request.has(WriteFlags.FUA)).isTrue();
        assertThat(request.has(WriteFlags.FAST_ONLY)).isFalse();
        assertThat(request.content()).isSameAs(data);

        Request duplicate = request.retainedDuplicate();
        assertThat(request.refCnt()).isEqualTo(2);
        assertThat(duplicate).isEqualTo(request);
        assertThat(duplicate.retain()).isSameAs(duplicate);
        assertThat(request.refCnt()).isEqualTo(3);

        Request copy = request.copy();
        data.setLong(0, 8);
        assertThat(copy.content().getLong(0)).as("a copy has its own bytes").isEqualTo(7);
        assertThat(request.duplicate().content().getLong(0)).isEqualTo(8);
        Request replaced = copy.replace(Unpooled.wrappedBuffer(new byte[8]));
        assertThat(replaced.seq()).as("same fields, other data").isEqualTo(1);
        assertThat(replaced.content().getLong(0)).isZero();
        replaced.release();

        assertThat(duplicate.release(2)).isFalse();
        assertThat(request.touch("test").release()).isTrue();
        assertThat(request.refCnt()).isZero();
        assertThatThrownBy(request::content).isInstanceOf(io.netty.util.IllegalReferenceCountException.class);
        assertThat(copy.release()).isTrue();
    }

    @Test
    void shouldCountReferencesOnReplyAndCatchUpRecordData() {
        Reply reply = new Reply(1, LinkFormat.STATUS_OK, "", Unpooled.buffer(4).writeInt(1));
        assertThat(reply.ok()).isTrue();
        Reply other = reply.retainedDuplicate();
        assertThat(reply.refCnt()).isEqualTo(2);
        other.release();
        assertThat(reply.release()).isTrue();

        CatchUpRecord record = new CatchUpRecord(1, Command.WRITE, 0, 0, 4, Unpooled.buffer(4).writeInt(1));
        CatchUpRecord copy = record.copy();
        assertThat(copy).isEqualTo(record);
        assertThat(record.retain(2).refCnt()).isEqualTo(3);
        assertThat(record.release(3)).isTrue();
        assertThat(copy.release()).isTrue();
    }
}
