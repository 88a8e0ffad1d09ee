package io.parityd.attach;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * Plain socket descriptors, through libc: what the kernel's NBD driver takes over. Java's own
 * channels cannot be handed over, because closing one shuts the connection down (a
 * {@code SocketChannel} does {@code shutdown(SHUT_WR)} on close), and the descriptor must outlive
 * our use of it in the kernel's hands. Netlink sockets, for the driver's generic-netlink family,
 * come from here too. Linux x86-64 constants.
 */
final class Sockets {

    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int AF_NETLINK = 16;
    static final int SOCK_STREAM = 1;
    static final int SOCK_RAW = 3;
    static final int SOCK_CLOEXEC = 02000000;
    static final int NETLINK_GENERIC = 16;
    static final int IPPROTO_TCP = 6;
    static final int TCP_NODELAY = 1;
    static final int SOL_SOCKET = 1;
    static final int SO_RCVTIMEO = 20;
    static final int SOL_NETLINK = 270;
    static final int NETLINK_ADD_MEMBERSHIP = 1;
    static final int EINTR = 4;
    static final int EAGAIN = 11;

    /** The libc functions bound; jnr-ffi generates the implementation. Public for jnr's class loader. */
    public interface LibC {
        @SaveError
        int socket(int domain, int type, int protocol);

        @SaveError
        int connect(int fd, @In ByteBuffer address, int length);

        @SaveError
        int bind(int fd, @In ByteBuffer address, int length);

        @SaveError
        @ssize_t long send(int fd, @In ByteBuffer buffer, @size_t long length, int flags);

        @SaveError
        @ssize_t long recv(int fd, @Out ByteBuffer buffer, @size_t long length, int flags);

        @SaveError
        int setsockopt(int fd, int level, int name, @In ByteBuffer value, int length);

        @SaveError
        int close(int fd);

        String strerror(int errno);
    }

    private static final class Bound {
        static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
        static final Runtime RUNTIME = Runtime.getRuntime(LIBC);
    }

    private Sockets() {
    }

    static LibC libc() {
        return Bound.LIBC;
    }

    static int errno() {
        return Bound.RUNTIME.getLastError();
    }

    static IOException failure(String call, String what) {
        int errno = errno();
        return new IOException(call + " " + what + ": " + Bound.LIBC.strerror(errno) + " (errno " + errno + ")");
    }

    /** A connected TCP socket to {@code address} with TCP_NODELAY, as a bare descriptor. */
    static int connectTcp(InetSocketAddress address) throws IOException {
        InetAddress ip = address.getAddress();
        if (ip == null) {
            throw new IOException("cannot resolve " + address.getHostString());
        }
        ByteBuffer sa = ByteBuffer.allocateDirect(28).order(ByteOrder.nativeOrder());
        int family;
        int length;
        if (ip instanceof Inet4Address) {
            family = AF_INET;
            sa.putShort((short) AF_INET).order(ByteOrder.BIG_ENDIAN).putShort((short) address.getPort()).put(ip.getAddress());
            length = 16;
        } else if (ip instanceof Inet6Address v6) {
            family = AF_INET6;
            sa.putShort((short) AF_INET6).order(ByteOrder.BIG_ENDIAN).putShort((short) address.getPort()).putInt(0)
                    .put(ip.getAddress()).order(ByteOrder.nativeOrder()).putInt(v6.getScopeId());
            length = 28;
        } else {
            throw new IOException("unsupported address " + ip);
        }
        int fd = libc().socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw failure("socket()", "for " + address);
        }
        while (libc().connect(fd, sa.clear(), length) != 0) {
            if (errno() != EINTR) {
                IOException e = failure("connect()", "to " + address);
                libc().close(fd);
                throw e;
            }
        }
        setInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
        return fd;
    }

    static void setInt(int fd, int level, int name, int value) throws IOException {
        ByteBuffer v = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder()).putInt(0, value);
        if (libc().setsockopt(fd, level, name, v, 4) != 0) {
            throw failure("setsockopt()", "option " + name);
        }
    }

    /** A receive timeout, so a blocking recv() wakes up to check for shutdown. */
    static void setReceiveTimeout(int fd, int millis) throws IOException {
        ByteBuffer tv = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder())
                .putLong(0, millis / 1000).putLong(8, (millis % 1000) * 1000L);
        if (libc().setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16) != 0) {
            throw failure("setsockopt()", "SO_RCVTIMEO");
        }
    }

    /** Writes all of {@code data} (from position to limit). */
    static void writeFully(int fd, ByteBuffer data, String what) throws IOException {
        ByteBuffer direct = ByteBuffer.allocateDirect(data.remaining()).put(data).flip();
        while (direct.hasRemaining()) {
            long n = libc().send(fd, direct.slice(), direct.remaining(), 0);
            if (n < 0) {
                if (errno() == EINTR) {
                    continue;
                }
                throw failure("send()", what);
            }
            direct.position(direct.position() + (int) n);
        }
    }

    /** Reads exactly {@code length} bytes; an early end of stream is an error. */
    static ByteBuffer readFully(int fd, int length, String what) throws IOException {
        ByteBuffer direct = ByteBuffer.allocateDirect(length);
        while (direct.hasRemaining()) {
            long n = libc().recv(fd, direct.slice(), direct.remaining(), 0);
            if (n < 0) {
                if (errno() == EINTR) {
                    continue;
                }
                throw failure("recv()", what);
            }
            if (n == 0) {
                throw new IOException("the server closed the connection during " + what);
            }
            direct.position(direct.position() + (int) n);
        }
        return direct.flip().order(ByteOrder.BIG_ENDIAN);
    }

    static void close(int fd) {
        if (fd >= 0) {
            libc().close(fd);
        }
    }
}
