package io.parityd.attach;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The generic-netlink messages for the kernel's NBD driver, byte for byte (linux/nbd-netlink.h). */
class NbdNetlinkTest {

    @Test
    void shouldEncodeAConnectRequestAsTheDriverParsesIt() {
        NbdNetlink.Message m = new NbdNetlink.Message(0x1a, NbdNetlink.NBD_CMD_CONNECT, 1)
                .u32(NbdNetlink.NBD_ATTR_INDEX, 3)
                .u64(NbdNetlink.NBD_ATTR_SIZE_BYTES, 1L << 30);
        int sockets = m.nestStart(NbdNetlink.NBD_ATTR_SOCKETS);
        int item = m.nestStart(NbdNetlink.NBD_SOCK_ITEM);
        m.u32(NbdNetlink.NBD_SOCK_FD, 7);
        m.nestEnd(item);
        m.nestEnd(sockets);
        ByteBuffer b = m.finish(42);

        assertThat(b.remaining()).isEqualTo(16 + 4 + 8 + 12 + (4 + 4 + 8));
        assertThat(b.getInt(0)).as("nlmsg_len").isEqualTo(b.remaining());
        assertThat(b.getShort(4)).as("nlmsg_type: the family").isEqualTo((short) 0x1a);
        assertThat(b.getShort(6)).as("flags: REQUEST | ACK").isEqualTo((short) 5);
        assertThat(b.getInt(8)).as("sequence").isEqualTo(42);
        assertThat(b.get(16)).as("genl cmd").isEqualTo((byte) NbdNetlink.NBD_CMD_CONNECT);
        assertThat(b.get(17)).as("genl version").isEqualTo((byte) 1);
        // NBD_ATTR_INDEX: len 8, type 1, u32 3
        assertThat(b.getShort(20)).isEqualTo((short) 8);
        assertThat(b.getShort(22)).isEqualTo((short) NbdNetlink.NBD_ATTR_INDEX);
        assertThat(b.getInt(24)).isEqualTo(3);
        // NBD_ATTR_SIZE_BYTES: len 12, type 2, u64
        assertThat(b.getShort(28)).isEqualTo((short) 12);
        assertThat(b.getLong(32)).isEqualTo(1L << 30);
        // NBD_ATTR_SOCKETS (nested) > NBD_SOCK_ITEM (nested) > NBD_SOCK_FD u32 7
        assertThat(b.getShort(40)).as("sockets length").isEqualTo((short) 16);
        assertThat(b.getShort(42)).isEqualTo((short) (NbdNetlink.NBD_ATTR_SOCKETS | NbdNetlink.NLA_F_NESTED));
        assertThat(b.getShort(44)).as("item length").isEqualTo((short) 12);
        assertThat(b.getShort(46)).isEqualTo((short) (NbdNetlink.NBD_SOCK_ITEM | NbdNetlink.NLA_F_NESTED));
        assertThat(b.getShort(48)).isEqualTo((short) 8);
        assertThat(b.getShort(50)).isEqualTo((short) NbdNetlink.NBD_SOCK_FD);
        assertThat(b.getInt(52)).isEqualTo(7);
    }

    @Test
    void shouldPadStringsToFourBytesAndFindAttributesAfterThem() {
        NbdNetlink.Message m = new NbdNetlink.Message(NbdNetlink.GENL_ID_CTRL, NbdNetlink.CTRL_CMD_GETFAMILY, 1)
                .string(NbdNetlink.CTRL_ATTR_FAMILY_NAME, "nbd_mc")
                .u32(9, 0xabcdef);
        ByteBuffer b = m.finish(1);
        ByteBuffer copy = ByteBuffer.allocate(b.remaining()).order(ByteOrder.nativeOrder()).put(b).flip();

        assertThat(copy.getShort(20)).as("'nbd_mc' + NUL + header, unpadded").isEqualTo((short) 11);
        assertThat(NbdNetlink.Message.attribute(copy, 20, 9)).as("the attribute after the padded string").contains(36);
        assertThat(copy.getInt(36)).isEqualTo(0xabcdef);
        assertThat(NbdNetlink.Message.attribute(copy, 20, 5)).isEmpty();
        assertThat(List.of(NbdNetlink.align(5), NbdNetlink.align(8), NbdNetlink.align(9))).containsExactly(8, 8, 12);
    }
}
