package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.parityd.protocol.Nbd.InfoType;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class InfoRequestTest {

    private static InfoRequest.Parsed parse(byte[] data) {
        ByteBuf buf = Unpooled.wrappedBuffer(data);
        try {
            InfoRequest.Parsed parsed = InfoRequest.parse(buf);
            assertThat(buf.readerIndex()).as("parse does not consume").isZero();
            return parsed;
        } finally {
            buf.release();
        }
    }

    @Test
    void shouldParseNameAndRequestsIgnoringUnknownAndRepeatedOnes() {
        InfoRequest.Parsed parsed = parse(Wire.infoData("vol é", 3, 0x4242, 3, 1));
        assertThat(parsed.valid()).isTrue();
        assertThat(parsed.request().name()).isEqualTo("vol é");
        assertThat(parsed.request().wants(InfoType.BLOCK_SIZE)).isTrue();
        assertThat(parsed.request().wants(InfoType.NAME)).isTrue();
        assertThat(parsed.request().wants(InfoType.DESCRIPTION)).isFalse();
        assertThat(parsed.request().wants(InfoType.UNKNOWN)).isFalse();
    }

    @Test
    void shouldAcceptTheDefaultExportWithNoRequests() {
        InfoRequest.Parsed parsed = parse(Wire.infoData(""));
        assertThat(parsed.request()).isEqualTo(new InfoRequest("", 0));
    }

    @Test
    void shouldRefuseDataShorterThanTheFixedPart() {
        assertThat(parse(new byte[5]).problem()).contains("shorter than the minimum of 6");
    }

    @Test
    void shouldRefuseANameLongerThanTheDataAllows() {
        // Name length 0xffffffff: must not wrap into a small number.
        byte[] data = Wire.bytes(b -> b.writeInt(-1).writeShort(0));
        assertThat(parse(data).problem()).contains("name length 4294967295");
        byte[] oneOver = Wire.bytes(b -> b.writeInt(3).writeBytes(Wire.utf8("ab")).writeShort(0));
        assertThat(parse(oneOver).valid()).isFalse();
    }

    @Test
    void shouldRefuseACountThatDisagreesWithTheLength() {
        byte[] tooFew = Wire.bytes(b -> b.writeInt(0).writeShort(2).writeShort(3));
        assertThat(parse(tooFew).problem()).contains("2 information requests need 4 bytes, the option has 2");
        byte[] tooMany = Wire.bytes(b -> b.writeInt(0).writeShort(0).writeShort(3));
        assertThat(parse(tooMany).valid()).isFalse();
        byte[] odd = Wire.bytes(b -> b.writeInt(0).writeShort(1).writeShort(3).writeByte(0));
        assertThat(parse(odd).valid()).isFalse();
    }
}
