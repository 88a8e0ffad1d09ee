package io.parityd.member;

import java.io.EOFException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import io.parityd.block.BlockDevice;
import io.parityd.block.IoFailures;

/**
 * A RAID member that is a regular file (DESIGN.md, "RAID": member I/O). Data moves through a
 * positional {@link FileChannel}, which is thread-safe and as fast as the page cache allows;
 * zeroing and trimming go through {@code fallocate(2)} on a second descriptor of the same file,
 * held by {@link NativeIo}, because Java has no way to punch a hole.
 *
 * <ul>
 *   <li>{@link #trim} and {@link #writeZeroes} with {@code mayDeallocate} punch a hole
 *       ({@code PUNCH_HOLE|KEEP_SIZE}); Linux filesystems read holes back as zeroes.</li>
 *   <li>{@link #writeZeroes} without {@code mayDeallocate} uses {@code ZERO_RANGE|KEEP_SIZE},
 *       which keeps the blocks allocated.</li>
 *   <li>Where the filesystem answers {@code EOPNOTSUPP}, zeroing falls back to writing zero
 *       buffers, trimming does nothing (it is a hint), and the member remembers, so
 *       {@link #zeroesFast} turns false for that mode.</li>
 * </ul>
 *
 * <p>Reads and writes advance the buffer's position, as {@link FileChannel} does. No alignment
 * is required. Ranges outside {@code [0, size())} are a caller bug and throw
 * {@link IndexOutOfBoundsException} rather than silently growing the file.
 *
 * <p>Threads doing I/O here must not be interrupted: an interrupt closes a {@link FileChannel}
 * for every thread ({@link java.nio.channels.ClosedByInterruptException}), which would look like
 * a failed member. Executors feeding members must not use {@code cancel(true)}.
 */
public final class FileMember implements BlockDevice {

    /** Zeroes written per call when fallocate cannot zero; read-only, shared by all members. */
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private static final int PUNCH = NativeIo.FALLOC_FL_PUNCH_HOLE | NativeIo.FALLOC_FL_KEEP_SIZE;
    private static final int ZERO_RANGE = NativeIo.FALLOC_FL_ZERO_RANGE | NativeIo.FALLOC_FL_KEEP_SIZE;

    private final Path path;
    private final FileChannel channel;
    /** The descriptor fallocate runs on; null for a read-only member. */
    private final NativeIo zeroer;
    private final long size;
    private volatile boolean punchWorks;
    private volatile boolean zeroRangeWorks;

    private FileMember(Path path, FileChannel channel, NativeIo zeroer, long size, boolean punchWorks) {
        this.path = path;
        this.channel = channel;
        this.zeroer = zeroer;
        this.size = size;
        this.punchWorks = punchWorks;
        // No harmless probe exists for ZERO_RANGE (it allocates), so assume it works where
        // punching does and learn otherwise from the first EOPNOTSUPP (tmpfs punches but cannot).
        this.zeroRangeWorks = punchWorks;
    }

    /**
     * Opens an existing regular file as a member. Its size is fixed at this moment.
     *
     * @throws IOException naming the path: missing ({@link java.nio.file.NoSuchFileException}),
     *                     not a regular file (block devices are {@link BlockMember}s), or the OS
     *                     refused to open it
     */
    public static FileMember open(Path path, boolean readOnly) throws IOException {
        int type = Members.type(path);
        if (type == Members.S_IFBLK) {
            throw new IOException(path + " is a block device, not a regular file (Members.open opens either)");
        }
        if (type != Members.S_IFREG) {
            throw Members.notAMember(path, type);
        }
        FileChannel channel = readOnly
                ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        NativeIo zeroer = null;
        try {
            long size = channel.size();
            if (readOnly) {
                return new FileMember(path, channel, null, size, false);
            }
            zeroer = NativeIo.open(path, NativeIo.O_RDWR | NativeIo.O_CLOEXEC, 0);
            return new FileMember(path, channel, zeroer, size, probePunch(zeroer, size));
        } catch (IOException | RuntimeException e) {
            closeQuietlyInto(e, zeroer);
            closeQuietlyInto(e, channel);
            throw e;
        }
    }

    /**
     * Creates a new file of {@code size} bytes that allocates no space (reads as zeroes) and opens
     * it read-write. Refuses with {@link java.nio.file.FileAlreadyExistsException} if the path
     * exists; on any failure the new file is removed again.
     */
    public static FileMember createSparse(Path path, long size) throws IOException {
        if (size <= 0) {
            throw new IllegalArgumentException("member size must be positive: " + size);
        }
        Files.createFile(path);
        try {
            try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
                file.setLength(size); // ftruncate: extends without allocating
            }
            syncDirectoryOf(path);
            return open(path, false);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    @Override
    public String describe() {
        return path.toString();
    }

    @Override
    public long size() {
        return size;
    }

    /** The file this member is. */
    public Path path() {
        return path;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        int wanted = dst.remaining();
        checkRange(offset, wanted);
        long position = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position);
            if (n < 0) {
                throw new EOFException(path + ": short read at offset " + offset + ": end of file after "
                        + (position - offset) + " of " + wanted + " bytes; the file was " + size
                        + " bytes when opened (was it truncated?)");
            }
            position += n;
        }
    }

    @Override
    public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        requireWritable();
        checkRange(offset, src.remaining());
        long position = offset;
        while (src.hasRemaining()) {
            position += channel.write(src, position);
        }
        if (fua) {
            flush();
        }
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        requireWritable();
        checkRange(offset, length);
        if (length > 0) {
            boolean done = mayDeallocate ? tryPunch(offset, length) : tryZeroRange(offset, length);
            if (!done) {
                writeZeroBuffers(offset, length);
            }
        }
        if (fua) {
            flush();
        }
    }

    @Override
    public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
        return zeroer != null && (mayDeallocate ? punchWorks : zeroRangeWorks);
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        requireWritable();
        checkRange(offset, length);
        if (length > 0) {
            tryPunch(offset, length); // where unsupported, leaving old data is what trim allows
        }
        if (fua) {
            flush();
        }
    }

    /** {@code fdatasync}. A failure is final: do not call again and trust a success. */
    @Override
    public void flush() throws IOException {
        channel.force(false);
    }

    /** Closes both descriptors; the first failure is thrown with the other one suppressed. */
    @Override
    public void close() throws IOException {
        IoFailures.closeAll(java.util.Arrays.asList(channel, zeroer));
    }

    @Override
    public String toString() {
        return "FileMember[" + path + ", " + size + " bytes" + (zeroer == null ? ", read-only]" : "]");
    }

    private boolean tryPunch(long offset, long length) throws IOException {
        if (!punchWorks) {
            return false;
        }
        if (fallocate(PUNCH, offset, length)) {
            return true;
        }
        punchWorks = false;
        return false;
    }

    private boolean tryZeroRange(long offset, long length) throws IOException {
        if (!zeroRangeWorks) {
            return false;
        }
        if (fallocate(ZERO_RANGE, offset, length)) {
            return true;
        }
        zeroRangeWorks = false;
        return false;
    }

    /** False when this filesystem does not support the mode; nothing has changed then. */
    private boolean fallocate(int mode, long offset, long length) throws IOException {
        try {
            zeroer.fallocate(mode, offset, length);
            return true;
        } catch (NativeIoException e) {
            if (e.errno() == NativeIo.EOPNOTSUPP) {
                return false;
            }
            throw e;
        }
    }

    private void writeZeroBuffers(long offset, long length) throws IOException {
        long position = offset;
        long end = offset + length;
        while (position < end) {
            ByteBuffer zeroes = ZEROES.duplicate();
            zeroes.limit((int) Math.min(zeroes.capacity(), end - position));
            while (zeroes.hasRemaining()) {
                position += channel.write(zeroes, position);
            }
        }
    }

    /**
     * Whether this filesystem punches holes, asked without changing anything: a hole past the end
     * of the file with KEEP_SIZE frees nothing and leaves the size alone.
     */
    private static boolean probePunch(NativeIo zeroer, long size) throws IOException {
        try {
            zeroer.fallocate(PUNCH, size, NativeIo.DIRECT_ALIGNMENT);
            return true;
        } catch (NativeIoException e) {
            if (e.errno() == NativeIo.EOPNOTSUPP) {
                return false;
            }
            throw e;
        }
    }

    private void requireWritable() throws IOException {
        if (zeroer == null) {
            throw new IOException(path + " is open read-only; this member cannot be changed");
        }
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IndexOutOfBoundsException(path + ": range at " + offset + " of " + length
                    + " bytes is outside the member's " + size + " bytes");
        }
    }

    /** Makes a new directory entry durable, or a power loss could lose the file it names. */
    private static void syncDirectoryOf(Path path) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        try (FileChannel directory = FileChannel.open(parent, StandardOpenOption.READ)) {
            directory.force(true);
        }
    }

    private static void closeQuietlyInto(Exception primary, AutoCloseable resource) {
        if (resource == null) {
            return;
        }
        try {
            resource.close();
        } catch (Exception e) {
            primary.addSuppressed(e);
        }
    }
}
