package io.parityd.protocol;

import io.parityd.protocol.Nbd.ClientFlag;
import io.parityd.protocol.Nbd.HandshakeFlag;
import io.parityd.protocol.Nbd.InfoType;
import io.parityd.protocol.Nbd.OptionReplyType;
import io.parityd.protocol.Nbd.OptionType;
import io.parityd.protocol.Nbd.ReplyFlag;
import io.parityd.protocol.Nbd.ReplyType;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The constants against the numbers in proto.md, written out again so a typo cannot hide in both places. */
class NbdTest {

    @Test
    void shouldCarryTheSpecMagics() {
        assertThat(Nbd.NBDMAGIC).isEqualTo(0x4e42444d41474943L);
        assertThat(Nbd.IHAVEOPT).isEqualTo(0x49484156454F5054L);
        assertThat(Nbd.OPTION_REPLY_MAGIC).isEqualTo(0x3e889045565a9L);
        assertThat(Nbd.REQUEST_MAGIC).isEqualTo(0x25609513);
        assertThat(Nbd.SIMPLE_REPLY_MAGIC).isEqualTo(0x67446698);
        assertThat(Nbd.STRUCTURED_REPLY_MAGIC).isEqualTo(0x668e33ef);
    }

    @Test
    void shouldMapOptionCodesBothWays() {
        int[] codes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        OptionType[] types = {OptionType.EXPORT_NAME, OptionType.ABORT, OptionType.LIST, OptionType.PEEK_EXPORT,
            OptionType.STARTTLS, OptionType.INFO, OptionType.GO, OptionType.STRUCTURED_REPLY,
            OptionType.LIST_META_CONTEXT, OptionType.SET_META_CONTEXT, OptionType.EXTENDED_HEADERS};
        for (int i = 0; i < codes.length; i++) {
            assertThat(OptionType.fromCode(codes[i])).isEqualTo(types[i]);
            assertThat(types[i].code()).isEqualTo(codes[i]);
        }
        assertThat(OptionType.fromCode(0)).isEqualTo(OptionType.UNKNOWN);
        assertThat(OptionType.fromCode(12)).isEqualTo(OptionType.UNKNOWN);
        assertThat(OptionType.fromCode(-1)).isEqualTo(OptionType.UNKNOWN);
        assertThat(OptionType.fromCode(Integer.MIN_VALUE)).isEqualTo(OptionType.UNKNOWN);
    }

    @Test
    void shouldMapOptionReplyCodesBothWays() {
        assertThat(OptionReplyType.ACK.code()).isEqualTo(1);
        assertThat(OptionReplyType.SERVER.code()).isEqualTo(2);
        assertThat(OptionReplyType.INFO.code()).isEqualTo(3);
        assertThat(OptionReplyType.META_CONTEXT.code()).isEqualTo(4);
        long errBase = 1L << 31;
        OptionReplyType[] errors = {OptionReplyType.ERR_UNSUP, OptionReplyType.ERR_POLICY, OptionReplyType.ERR_INVALID,
            OptionReplyType.ERR_PLATFORM, OptionReplyType.ERR_TLS_REQD, OptionReplyType.ERR_UNKNOWN,
            OptionReplyType.ERR_SHUTDOWN, OptionReplyType.ERR_BLOCK_SIZE_REQD, OptionReplyType.ERR_TOO_BIG};
        for (int i = 0; i < errors.length; i++) {
            assertThat(Integer.toUnsignedLong(errors[i].code())).isEqualTo(errBase + i + 1);
            assertThat(errors[i].isError()).isTrue();
            assertThat(OptionReplyType.fromCode(errors[i].code())).isEqualTo(errors[i]);
        }
        assertThat(OptionReplyType.ACK.isError()).isFalse();
        assertThat(OptionReplyType.UNKNOWN.isError()).isFalse();
        assertThat(OptionReplyType.fromCode(0x8000000a)).isEqualTo(OptionReplyType.UNKNOWN);
        assertThat(OptionReplyType.fromCode(-1)).isEqualTo(OptionReplyType.UNKNOWN);
    }

    @Test
    void shouldMapInfoAndReplyTypes() {
        assertThat(InfoType.fromCode(0)).isEqualTo(InfoType.EXPORT);
        assertThat(InfoType.fromCode(1)).isEqualTo(InfoType.NAME);
        assertThat(InfoType.fromCode(2)).isEqualTo(InfoType.DESCRIPTION);
        assertThat(InfoType.fromCode(3)).isEqualTo(InfoType.BLOCK_SIZE);
        assertThat(InfoType.fromCode(4)).isEqualTo(InfoType.UNKNOWN);
        assertThat(InfoType.fromCode(0xffff)).isEqualTo(InfoType.UNKNOWN);

        assertThat(ReplyType.fromCode(0)).isEqualTo(ReplyType.NONE);
        assertThat(ReplyType.fromCode(1)).isEqualTo(ReplyType.OFFSET_DATA);
        assertThat(ReplyType.fromCode(2)).isEqualTo(ReplyType.OFFSET_HOLE);
        assertThat(ReplyType.fromCode(5)).isEqualTo(ReplyType.BLOCK_STATUS);
        assertThat(ReplyType.fromCode(32769)).isEqualTo(ReplyType.ERROR);
        assertThat(ReplyType.fromCode(32770)).isEqualTo(ReplyType.ERROR_OFFSET);
        assertThat(ReplyType.fromCode(3)).isEqualTo(ReplyType.UNKNOWN);
        assertThat(ReplyType.ERROR.isError()).isTrue();
        assertThat(ReplyType.OFFSET_DATA.isError()).isFalse();
        assertThat(ReplyFlag.DONE.code()).isEqualTo(1);
        assertThat(ReplyFlag.fromBits(3)).containsExactly(ReplyFlag.DONE);
    }

    @Test
    void shouldKnowExactlyTheTwoClientFlags() {
        assertThat(ClientFlag.FIXED_NEWSTYLE.code()).isEqualTo(1);
        assertThat(ClientFlag.NO_ZEROES.code()).isEqualTo(2);
        assertThat(ClientFlag.unknownBits(3)).isZero();
        assertThat(ClientFlag.unknownBits(0x80000003)).isEqualTo(0x80000000);
        assertThat(ClientFlag.fromBits(2)).containsExactly(ClientFlag.NO_ZEROES);
        assertThat(HandshakeFlag.fromBits(3)).containsExactly(HandshakeFlag.FIXED_NEWSTYLE, HandshakeFlag.NO_ZEROES);
    }

    @Test
    void shouldDecodeEveryCommandCodeAndUnknownOnes() {
        for (CommandType t : CommandType.values()) {
            if (t != CommandType.UNKNOWN) {
                assertThat(CommandType.fromCode(t.code())).isEqualTo(t);
            }
        }
        assertThat(CommandType.fromCode(9)).isEqualTo(CommandType.UNKNOWN);
        assertThat(CommandType.fromCode(0xffff)).isEqualTo(CommandType.UNKNOWN);
        assertThat(CommandType.fromCode(-1)).isEqualTo(CommandType.UNKNOWN);
    }
}
