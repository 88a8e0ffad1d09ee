package io.parityd.member;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.annotations.Variadic;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;
import jnr.ffi.types.u_int64_t;

/**
 * One open file descriptor and the Linux system calls parityd makes on it: the only class that
 * touches jnr-ffi (as Netty's {@code FileDescriptor} + {@code Errors} are for Netty). Every call
 * that returns {@code -1} becomes a {@link NativeIoException} naming the call, the path and the
 * kernel's reason; {@code EINTR} is retried here so callers never see it.
 *
 * <p>{@link FileMember} uses it buffered (pread/pwrite, fallocate); {@link BlockMember} with
 * {@code O_DIRECT} and the block-device ioctls (DESIGN.md, "RAID").
 * Constants are Linux x86-64 values.
 *
 * <p>Thread safety: calls may run concurrently; {@link #close()} must not race with them (the
 * descriptor number could be reused by another open), which owners guarantee by closing last.
 */
public final class NativeIo implements Closeable {

    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 02;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_DIRECT = 040000;
    public static final int O_CLOEXEC = 02000000;

    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;

    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EBADF = 9;
    public static final int EBUSY = 16;
    public static final int EINVAL = 22;
    public static final int ENOTTY = 25;
    public static final int ENOSPC = 28;
    public static final int EOPNOTSUPP = 95;

    /** {@code _IOR(0x12, 114, size_t)}: a block device's size in bytes. */
    public static final long BLKGETSIZE64 = 0x80081272L;
    /** {@code _IO(0x12, 104)}: a block device's logical sector size. */
    public static final long BLKSSZGET = 0x1268L;
    /** {@code _IO(0x12, 119)}: discard a byte range {@code uint64_t[2] = {offset, length}}. */
    public static final long BLKDISCARD = 0x1277L;
    /** {@code _IO(0x12, 127)}: zero a byte range, offloaded where the device can, else by writes. */
    public static final long BLKZEROOUT = 0x127fL;

    private static final int SEEK_END = 2;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int EWOULDBLOCK = 11;

    /** {@code sizeof(struct stat)} on x86-64, and where {@code st_nlink} (an 8-byte {@code nlink_t}) sits in it. */
    private static final int STAT_BYTES = 144;
    private static final int ST_NLINK_AT = 16;

    /** Alignment {@code O_DIRECT} demands of buffers, offsets and lengths on the devices we use. */
    public static final int DIRECT_ALIGNMENT = 4096;

    /**
     * The libc functions we bind. jnr-ffi generates the implementation and binds every method,
     * so this interface holds no static or default methods (jnr would try to bind them too).
     * Public only because jnr's generated class lives in another class loader.
     */
    public interface LibC {
        @SaveError
        @Variadic(fixedCount = 2)
        int open(@In CharSequence path, int flags, @mode_t int mode);

        @SaveError
        int close(int fd);

        @SaveError
        @ssize_t long pread(int fd, @Out ByteBuffer dst, @size_t long count, @off_t long offset);

        @SaveError
        @ssize_t long pwrite(int fd, @In ByteBuffer src, @size_t long count, @off_t long offset);

        @SaveError
        int fdatasync(int fd);

        @SaveError
        @off_t long lseek(int fd, @off_t long offset, int whence);

        @SaveError
        int fallocate(int fd, int mode, @off_t long offset, @off_t long length);

        @SaveError
        int flock(int fd, int operation);

        /** glibc 2.33 and later export {@code fstat} itself (Debian 12 has 2.36). */
        @SaveError
        int fstat(int fd, @Out ByteBuffer stat);

        @SaveError
        @Variadic(fixedCount = 2)
        int ioctl(int fd, @u_int64_t long request, @Out ByteBuffer arg);

        /** The same ioctl for requests that read a {@code uint64_t[]} (BLKDISCARD, BLKZEROOUT). */
        @SaveError
        @Variadic(fixedCount = 2)
        int ioctl(int fd, @u_int64_t long request, @In long[] arg);

        String strerror(int errno);
    }

    /**
     * The libc binding, loaded on first use. It is stateless (errno is per thread), so sharing it
     * is not the static mutable state the house style forbids.
     */
    private static final class Bound {
        static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
        static final Runtime RUNTIME = Runtime.getRuntime(LIBC);
    }

    private final Path path;
    private volatile int fd;

    private NativeIo(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /** {@code open(2)}; add {@link #O_CLOEXEC} so the descriptor does not leak into children. */
    public static NativeIo open(Path path, int flags, int mode) throws NativeIoException {
        LibC libc = Bound.LIBC;
        while (true) {
            int fd = libc.open(path.toString(), flags, mode);
            if (fd >= 0) {
                return new NativeIo(path, fd);
            }
            int errno = Bound.RUNTIME.getLastError();
            if (errno != EINTR) {
                throw error("open", path, errno);
            }
        }
    }

    /**
     * A direct buffer of {@code size} bytes whose address is aligned to {@link #DIRECT_ALIGNMENT},
     * as {@code O_DIRECT} requires (heap buffers get EINVAL).
     */
    public static ByteBuffer alignedBuffer(int size) {
        // alignedSlice also rounds the end down to the alignment, so round the size up first.
        int rounded = (size + DIRECT_ALIGNMENT - 1) & -DIRECT_ALIGNMENT;
        return ByteBuffer.allocateDirect(rounded + DIRECT_ALIGNMENT).alignedSlice(DIRECT_ALIGNMENT).slice(0, size);
    }

    public Path path() {
        return path;
    }

    /**
     * One {@code pread(2)} into {@code dst}'s remaining bytes; advances its position by what was
     * read and returns that count, 0 at end of file. Callers loop for the rest.
     */
    public int pread(ByteBuffer dst, long offset) throws IOException {
        int descriptor = openFd();
        while (true) {
            long n = Bound.LIBC.pread(descriptor, dst, dst.remaining(), offset);
            if (n >= 0) {
                dst.position(dst.position() + (int) n);
                return (int) n;
            }
            retryOrThrow("pread");
        }
    }

    /** One {@code pwrite(2)} of {@code src}'s remaining bytes; advances its position, returns the count. */
    public int pwrite(ByteBuffer src, long offset) throws IOException {
        int descriptor = openFd();
        while (true) {
            long n = Bound.LIBC.pwrite(descriptor, src, src.remaining(), offset);
            if (n >= 0) {
                src.position(src.position() + (int) n);
                return (int) n;
            }
            retryOrThrow("pwrite");
        }
    }

    /**
     * {@link #pwrite} until {@code src} is empty. A pwrite that moves nothing would repeat for
     * ever, so it fails naming the offset, with {@code hint} (a likely cause, or empty) at the end.
     */
    void pwriteFully(ByteBuffer src, long offset, String hint) throws IOException {
        long position = offset;
        while (src.hasRemaining()) {
            int n = pwrite(src, position);
            if (n == 0) {
                throw new IOException(path + ": pwrite at offset " + position + " wrote nothing with "
                        + src.remaining() + " bytes left" + hint);
            }
            position += n;
        }
    }

    /**
     * {@code fdatasync(2)}. A failure is final: the kernel may have dropped the dirty pages, so a
     * second call that succeeds proves nothing (never retry it as if it had succeeded).
     */
    public void fdatasync() throws IOException {
        int descriptor = openFd();
        while (Bound.LIBC.fdatasync(descriptor) != 0) {
            retryOrThrow("fdatasync");
        }
    }

    /** {@code fallocate(2)} with a mode built from the {@code FALLOC_FL_*} constants. */
    public void fallocate(int mode, long offset, long length) throws IOException {
        int descriptor = openFd();
        while (Bound.LIBC.fallocate(descriptor, mode, offset, length) != 0) {
            retryOrThrow("fallocate(" + fallocateModeName(mode) + ")");
        }
    }

    /**
     * {@code flock(LOCK_EX | LOCK_NB)}: takes this descriptor's exclusive advisory lock on the
     * file, or returns false at once if another open file description holds one. The kernel
     * drops it when the descriptor closes or the process dies, kill -9 included, so it can never
     * outlive its owner.
     */
    public boolean tryLockExclusive() throws IOException {
        int descriptor = openFd();
        while (Bound.LIBC.flock(descriptor, LOCK_EX | LOCK_NB) != 0) {
            int errno = Bound.RUNTIME.getLastError();
            if (errno == EWOULDBLOCK) {
                return false;
            }
            if (errno != EINTR) {
                throw error("flock(LOCK_EX)", path, errno);
            }
        }
        return true;
    }

    /**
     * {@code lseek(SEEK_END)}: the size of the file open here, in bytes. It moves the descriptor's
     * file offset, which no call in this class uses.
     */
    public long fileSize() throws IOException {
        int descriptor = openFd();
        while (true) {
            long end = Bound.LIBC.lseek(descriptor, 0, SEEK_END);
            if (end >= 0) {
                return end;
            }
            retryOrThrow("lseek(SEEK_END)");
        }
    }

    /**
     * {@code fstat(2)}'s {@code st_nlink}: how many names the open file has. 0 once every name is
     * deleted: the open descriptor keeps the inode alive, and what is written to it is gone when
     * the last descriptor closes.
     */
    public long linkCount() throws IOException {
        int descriptor = openFd();
        ByteBuffer stat = ByteBuffer.allocateDirect(STAT_BYTES).order(ByteOrder.nativeOrder());
        while (Bound.LIBC.fstat(descriptor, stat) != 0) {
            retryOrThrow("fstat");
        }
        return stat.getLong(ST_NLINK_AT);
    }

    /** {@code ioctl(BLKGETSIZE64)}: the size of the block device open here, in bytes. */
    public long blockDeviceSize() throws IOException {
        ByteBuffer out = ByteBuffer.allocateDirect(Long.BYTES).order(ByteOrder.nativeOrder());
        ioctl(BLKGETSIZE64, "BLKGETSIZE64", out);
        return out.getLong(0);
    }

    /** {@code ioctl(BLKSSZGET)}: the logical sector size of the block device open here. */
    public int logicalSectorSize() throws IOException {
        ByteBuffer out = ByteBuffer.allocateDirect(Integer.BYTES).order(ByteOrder.nativeOrder());
        ioctl(BLKSSZGET, "BLKSSZGET", out);
        return out.getInt(0);
    }

    /**
     * {@code ioctl(BLKDISCARD)}: tells the device the range is unused. What it reads back
     * afterwards is up to the device (old data, zeroes, or on some SSDs neither); offset and
     * length must be multiples of the logical sector size ({@code EINVAL} otherwise), and
     * {@code EOPNOTSUPP} means the device cannot discard.
     */
    public void discard(long offset, long length) throws IOException {
        rangeIoctl(BLKDISCARD, "BLKDISCARD", offset, length);
    }

    /**
     * {@code ioctl(BLKZEROOUT)}: the range reads as zeroes afterwards. The kernel offloads it where
     * the device can and otherwise writes zero pages itself, so it works on every writable block
     * device but may be slow; alignment as for {@link #discard}.
     */
    public void zeroOut(long offset, long length) throws IOException {
        rangeIoctl(BLKZEROOUT, "BLKZEROOUT", offset, length);
    }

    /**
     * Closes the descriptor once; later calls do nothing. {@code EINTR} is not retried: Linux has
     * released the descriptor by then, and a retry could close one another thread just opened.
     */
    @Override
    public synchronized void close() throws IOException {
        int descriptor = fd;
        if (descriptor < 0) {
            return;
        }
        fd = -1;
        if (Bound.LIBC.close(descriptor) != 0) {
            int errno = Bound.RUNTIME.getLastError();
            if (errno != EINTR) {
                throw error("close", path, errno);
            }
        }
    }

    @Override
    public String toString() {
        return "NativeIo[" + path + ", fd " + fd + "]";
    }

    private void ioctl(long request, String name, ByteBuffer out) throws IOException {
        int descriptor = openFd();
        while (Bound.LIBC.ioctl(descriptor, request, out) != 0) {
            retryOrThrow("ioctl(" + name + ")");
        }
    }

    private void rangeIoctl(long request, String name, long offset, long length) throws IOException {
        int descriptor = openFd();
        long[] range = {offset, length};
        while (Bound.LIBC.ioctl(descriptor, request, range) != 0) {
            retryOrThrow("ioctl(" + name + ")");
        }
    }

    private int openFd() throws ClosedChannelException {
        int descriptor = fd;
        if (descriptor < 0) {
            throw new ClosedChannelException();
        }
        return descriptor;
    }

    /** Returns to retry after {@code EINTR}; otherwise throws the error the call left. */
    private void retryOrThrow(String call) throws NativeIoException {
        int errno = Bound.RUNTIME.getLastError();
        if (errno != EINTR) {
            throw error(call, path, errno);
        }
    }

    private static NativeIoException error(String call, Path path, int errno) {
        return new NativeIoException(call, path.toString(), errno, Bound.LIBC.strerror(errno));
    }

    /** The name an operator knows the mode by; KEEP_SIZE is implied by how we use each mode. */
    private static String fallocateModeName(int mode) {
        if ((mode & FALLOC_FL_PUNCH_HOLE) != 0) {
            return "PUNCH_HOLE";
        }
        if ((mode & FALLOC_FL_ZERO_RANGE) != 0) {
            return "ZERO_RANGE";
        }
        return "ALLOCATE";
    }
}
