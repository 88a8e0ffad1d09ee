package io.parityd.attach;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalInt;

/**
 * The kernel NBD driver's generic-netlink interface ({@code linux/nbd-netlink.h}): configure a
 * device with connected sockets ({@code NBD_CMD_CONNECT}), hand it new sockets for dead ones
 * ({@code NBD_CMD_RECONFIGURE}), disconnect it, and hear when a connection dies
 * ({@code NBD_CMD_LINK_DEAD}, multicast on {@code nbd_mc_group}).
 *
 * <p>Only this interface can set a dead-connection timeout: requests then wait for a new
 * connection for that long instead of failing with EIO the moment the old one breaks. The ioctl
 * interface (and nbd-client 3.24 over netlink) cannot, which is why {@code parityd attach} exists.
 *
 * <p>Two sockets: one for requests and their acknowledgements, one that only listens to the
 * multicast group, so events never interleave with replies.
 */
final class NbdNetlink implements Closeable {

    static final int NLMSG_HEADER = 16;
    static final int GENL_HEADER = 4;
    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int NLM_F_REQUEST = 1;
    static final int NLM_F_ACK = 4;
    static final int NLA_F_NESTED = 0x8000;

    static final int GENL_ID_CTRL = 0x10;
    static final int CTRL_CMD_GETFAMILY = 3;
    static final int CTRL_ATTR_FAMILY_ID = 1;
    static final int CTRL_ATTR_FAMILY_NAME = 2;
    static final int CTRL_ATTR_MCAST_GROUPS = 7;
    static final int CTRL_ATTR_MCAST_GRP_NAME = 1;
    static final int CTRL_ATTR_MCAST_GRP_ID = 2;

    static final int NBD_CMD_CONNECT = 1;
    static final int NBD_CMD_DISCONNECT = 2;
    static final int NBD_CMD_RECONFIGURE = 3;
    static final int NBD_CMD_LINK_DEAD = 4;

    static final int NBD_ATTR_INDEX = 1;
    static final int NBD_ATTR_SIZE_BYTES = 2;
    static final int NBD_ATTR_BLOCK_SIZE_BYTES = 3;
    static final int NBD_ATTR_TIMEOUT = 4;
    static final int NBD_ATTR_SERVER_FLAGS = 5;
    static final int NBD_ATTR_SOCKETS = 7;
    static final int NBD_ATTR_DEAD_CONN_TIMEOUT = 8;
    static final int NBD_SOCK_ITEM = 1;
    static final int NBD_SOCK_FD = 1;

    private static final int NBD_GENL_VERSION = 1;
    private static final int BUFFER = 65536;

    private final int requests;
    private final int events;
    private final int family;
    private int sequence;

    private NbdNetlink(int requests, int events, int family) {
        this.requests = requests;
        this.events = events;
        this.family = family;
    }

    /** Opens both sockets and finds the {@code nbd} family; fails if the driver is not loaded. */
    static NbdNetlink open() throws IOException {
        int requests = netlinkSocket();
        int events = -1;
        try {
            Message get = new Message(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1).string(CTRL_ATTR_FAMILY_NAME, "nbd");
            ByteBuffer reply = exchange(requests, get, 1, "CTRL_CMD_GETFAMILY nbd", true);
            if (reply == null) {
                throw new IOException("the kernel has no 'nbd' generic-netlink family");
            }
            int family = Message.attribute(reply, NLMSG_HEADER + GENL_HEADER, CTRL_ATTR_FAMILY_ID)
                    .map(a -> reply.getShort(a) & 0xffff).orElseThrow(() -> new IOException("no family id for 'nbd'"));
            int group = multicastGroup(reply, "nbd_mc_group")
                    .orElseThrow(() -> new IOException("the nbd driver has no 'nbd_mc_group' multicast group"));
            events = netlinkSocket();
            Sockets.setInt(events, Sockets.SOL_NETLINK, Sockets.NETLINK_ADD_MEMBERSHIP, group);
            Sockets.setReceiveTimeout(events, 500);
            return new NbdNetlink(requests, events, family);
        } catch (IOException e) {
            Sockets.close(requests);
            Sockets.close(events);
            if (e.getMessage() != null && e.getMessage().contains("errno 2)")) {
                throw new IOException("the kernel's nbd driver is not loaded (modprobe nbd)", e);
            }
            throw e;
        }
    }

    /** {@code NBD_CMD_CONNECT}: /dev/nbd{index} serves the export over {@code sockets}. */
    void connect(int index, List<Integer> sockets, long size, int serverFlags, long blockSize, long timeoutSeconds,
            long deadConnectionSeconds) throws IOException {
        Message m = new Message(family, NBD_CMD_CONNECT, NBD_GENL_VERSION)
                .u32(NBD_ATTR_INDEX, index)
                .u64(NBD_ATTR_SIZE_BYTES, size)
                .u64(NBD_ATTR_BLOCK_SIZE_BYTES, blockSize)
                .u64(NBD_ATTR_SERVER_FLAGS, serverFlags)
                .u64(NBD_ATTR_TIMEOUT, timeoutSeconds)
                .u64(NBD_ATTR_DEAD_CONN_TIMEOUT, deadConnectionSeconds);
        sockets(m, sockets);
        exchange(requests, m, ++sequence, "NBD_CMD_CONNECT for /dev/nbd" + index, false);
    }

    /** {@code NBD_CMD_RECONFIGURE}: new sockets take the places of dead ones (extra ones are dropped). */
    void reconnect(int index, List<Integer> sockets) throws IOException {
        Message m = new Message(family, NBD_CMD_RECONFIGURE, NBD_GENL_VERSION).u32(NBD_ATTR_INDEX, index);
        sockets(m, sockets);
        exchange(requests, m, ++sequence, "NBD_CMD_RECONFIGURE for /dev/nbd" + index, false);
    }

    void disconnect(int index) throws IOException {
        exchange(requests, new Message(family, NBD_CMD_DISCONNECT, NBD_GENL_VERSION).u32(NBD_ATTR_INDEX, index),
                ++sequence, "NBD_CMD_DISCONNECT for /dev/nbd" + index, false);
    }

    /**
     * Waits up to half a second for a dead-link event; returns the device index it names, or
     * empty if none came.
     */
    OptionalInt nextDeadLink() throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER).order(ByteOrder.nativeOrder());
        long n = Sockets.libc().recv(events, buffer, BUFFER, 0);
        if (n < 0) {
            int errno = Sockets.errno();
            if (errno == Sockets.EAGAIN || errno == Sockets.EINTR) {
                return OptionalInt.empty();
            }
            throw Sockets.failure("recv()", "on the nbd multicast socket");
        }
        buffer.limit((int) n);
        for (int at = 0; at + NLMSG_HEADER <= n; ) {
            int length = buffer.getInt(at);
            int type = buffer.getShort(at + 4) & 0xffff;
            if (length < NLMSG_HEADER) {
                break;
            }
            if (type == family && (buffer.get(at + NLMSG_HEADER) & 0xff) == NBD_CMD_LINK_DEAD) {
                ByteBuffer one = buffer.duplicate().order(ByteOrder.nativeOrder()).limit(at + length);
                OptionalInt index = Message.attribute(one, at + NLMSG_HEADER + GENL_HEADER, NBD_ATTR_INDEX)
                        .map(a -> OptionalInt.of(one.getInt(a))).orElse(OptionalInt.empty());
                if (index.isPresent()) {
                    return index;
                }
            }
            at += align(length);
        }
        return OptionalInt.empty();
    }

    @Override
    public void close() {
        Sockets.close(requests);
        Sockets.close(events);
    }

    private static void sockets(Message m, List<Integer> sockets) {
        int list = m.nestStart(NBD_ATTR_SOCKETS);
        for (int fd : sockets) {
            int item = m.nestStart(NBD_SOCK_ITEM);
            m.u32(NBD_SOCK_FD, fd);
            m.nestEnd(item);
        }
        m.nestEnd(list);
    }

    private static int netlinkSocket() throws IOException {
        int fd = Sockets.libc().socket(Sockets.AF_NETLINK, Sockets.SOCK_RAW | Sockets.SOCK_CLOEXEC, Sockets.NETLINK_GENERIC);
        if (fd < 0) {
            throw Sockets.failure("socket(AF_NETLINK)", "for generic netlink");
        }
        ByteBuffer address = ByteBuffer.allocateDirect(12).order(ByteOrder.nativeOrder()).putShort(0, (short) Sockets.AF_NETLINK);
        if (Sockets.libc().bind(fd, address, 12) != 0) {
            IOException e = Sockets.failure("bind()", "a netlink socket");
            Sockets.close(fd);
            throw e;
        }
        return fd;
    }

    /**
     * Sends {@code m} and reads until its acknowledgement; returns the data reply that came
     * before it, if {@code wantReply}. A negative errno in the acknowledgement is an IOException.
     */
    private static ByteBuffer exchange(int fd, Message m, int sequence, String what, boolean wantReply) throws IOException {
        ByteBuffer out = m.finish(sequence);
        long sent = Sockets.libc().send(fd, out, out.remaining(), 0);
        if (sent != out.remaining()) {
            throw Sockets.failure("send()", what);
        }
        ByteBuffer reply = null;
        while (true) {
            ByteBuffer in = ByteBuffer.allocateDirect(BUFFER).order(ByteOrder.nativeOrder());
            long n = Sockets.libc().recv(fd, in, BUFFER, 0);
            if (n < 0) {
                if (Sockets.errno() == Sockets.EINTR) {
                    continue;
                }
                throw Sockets.failure("recv()", "the answer to " + what);
            }
            in.limit((int) n);
            for (int at = 0; at + NLMSG_HEADER <= n; ) {
                int length = in.getInt(at);
                int type = in.getShort(at + 4) & 0xffff;
                int seq = in.getInt(at + 8);
                if (length < NLMSG_HEADER) {
                    throw new IOException("malformed netlink message answering " + what);
                }
                if (seq == sequence) {
                    if (type == NLMSG_ERROR) {
                        int error = in.getInt(at + NLMSG_HEADER);
                        if (error != 0) {
                            throw new IOException(what + ": " + Sockets.libc().strerror(-error) + " (errno " + -error + ")");
                        }
                        return reply;
                    }
                    if (type == NLMSG_DONE) {
                        return reply;
                    }
                    if (wantReply && reply == null) {
                        ByteBuffer copy = ByteBuffer.allocate(length).order(ByteOrder.nativeOrder());
                        copy.put(in.duplicate().position(at).limit(at + length)).flip();
                        reply = copy;
                    }
                }
                at += align(length);
            }
        }
    }

    private static OptionalInt multicastGroup(ByteBuffer reply, String name) {
        return Message.attribute(reply, NLMSG_HEADER + GENL_HEADER, CTRL_ATTR_MCAST_GROUPS).map(groups -> {
            int end = groups + (reply.getShort(groups - 4) & 0xffff) - 4;
            for (int at = groups; at + 4 <= end; ) {
                int length = reply.getShort(at) & 0xffff;
                if (length < 4) {
                    break;
                }
                ByteBuffer one = reply.duplicate().order(ByteOrder.nativeOrder()).limit(at + length);
                String groupName = Message.attribute(one, at + 4, CTRL_ATTR_MCAST_GRP_NAME).map(a -> {
                    int len = (one.getShort(a - 4) & 0xffff) - 4;
                    byte[] bytes = new byte[Math.max(0, len - 1)];
                    one.get(a, bytes);
                    return new String(bytes, StandardCharsets.UTF_8);
                }).orElse("");
                if (groupName.equals(name)) {
                    return Message.attribute(one, at + 4, CTRL_ATTR_MCAST_GRP_ID).map(a -> OptionalInt.of(one.getInt(a)))
                            .orElse(OptionalInt.empty());
                }
                at += align(length);
            }
            return OptionalInt.empty();
        }).orElse(OptionalInt.empty());
    }

    static int align(int length) {
        return (length + 3) & ~3;
    }

    /** A generic-netlink request under construction: header, then attributes (TLVs, 4-byte aligned). */
    static final class Message {
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(4096).order(ByteOrder.nativeOrder());
        private final int type;

        Message(int type, int command, int version) {
            this.type = type;
            buffer.position(NLMSG_HEADER);
            buffer.put((byte) command).put((byte) version).putShort((short) 0);
        }

        Message u32(int attribute, int value) {
            buffer.putShort((short) 8).putShort((short) attribute).putInt(value);
            return this;
        }

        Message u64(int attribute, long value) {
            buffer.putShort((short) 12).putShort((short) attribute).putLong(value);
            return this;
        }

        Message string(int attribute, String value) {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            int length = 4 + bytes.length + 1;
            buffer.putShort((short) length).putShort((short) attribute).put(bytes).put((byte) 0);
            pad();
            return this;
        }

        int nestStart(int attribute) {
            int at = buffer.position();
            buffer.putShort((short) 0).putShort((short) (attribute | NLA_F_NESTED));
            return at;
        }

        void nestEnd(int at) {
            buffer.putShort(at, (short) (buffer.position() - at));
        }

        private void pad() {
            while ((buffer.position() & 3) != 0) {
                buffer.put((byte) 0);
            }
        }

        ByteBuffer finish(int sequence) {
            int length = buffer.position();
            buffer.putInt(0, length).putShort(4, (short) type).putShort(6, (short) (NLM_F_REQUEST | NLM_F_ACK))
                    .putInt(8, sequence).putInt(12, 0);
            return buffer.duplicate().order(ByteOrder.nativeOrder()).position(0).limit(length);
        }

        /** The offset of the payload of the first attribute {@code type} in [from, limit), if any. */
        static java.util.Optional<Integer> attribute(ByteBuffer b, int from, int type) {
            for (int at = from; at + 4 <= b.limit(); ) {
                int length = b.getShort(at) & 0xffff;
                int t = b.getShort(at + 2) & 0x3fff;
                if (length < 4) {
                    break;
                }
                if (t == type) {
                    return java.util.Optional.of(at + 4);
                }
                at += align(length);
            }
            return java.util.Optional.empty();
        }
    }
}
