package io.parityd.member;

import java.io.EOFException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

import io.parityd.block.BlockDevice;

/**
 * A RAID member that is a regular file (DESIGN.md, "RAID": member I/O). One {@link NativeIo}
 * descriptor, through the page cache: {@code pread}/{@code pwrite} for data, {@code fallocate}
 * for zeroing and trimming, {@code fdatasync} for flush.
 *
 * <p>Why not {@link java.nio.channels.FileChannel} or {@code O_DIRECT}: measured with
 * {@code FileIoPathBench} (test sources), positional FileChannel and buffered pread/pwrite are
 * equal within noise for 4 KiB random and 64 KiB / 1 MiB sequential I/O, direct and heap
 * buffers, 1 and 8 threads. {@code O_DIRECT} loses the page cache that the RAID engine's
 * read-modify-write reads hit, and at one request in flight reads 64 KiB sequentially at a
 * quarter of the buffered rate. Between the two equals, NativeIo wins on behaviour: an interrupt
 * of one thread (a scrub being stopped) closes a FileChannel for every thread, which would look
 * like a failed member, while a system call here ignores it; errors carry their errno, so
 * {@code ENOSPC} is told apart without reading message text; and one descriptor does it all.
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
 * <p><b>One writer.</b> A read-write open takes an exclusive {@code flock} on the file and fails
 * with {@link MemberInUseException} if another process (or another open here) holds it, as
 * {@link BlockMember} does with {@code O_EXCL}: two daemons writing one array would each compute
 * parity the other overwrites. Read-only opens (inspection) take no lock.
 *
 * <p>Reads and writes advance the buffer's position, as FileChannel's do. No alignment is
 * required. Ranges outside {@code [0, size())} are a caller bug and throw
 * {@link IndexOutOfBoundsException} rather than silently growing the file. Interrupting a thread
 * doing I/O here has no effect on the I/O or on other threads.
 */
public final class FileMember implements BlockDevice {

    /**
     * A new member file is the owner's alone: it holds the volume's data. Asked for explicitly at
     * creation rather than left to the umask (022 would make it world-readable); an existing
     * file's mode is the operator's and is never changed.
     */
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    /** Zeroes written per call when fallocate cannot zero; read-only, shared by all members. */
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private final MemberDescriptor descriptor;

    private FileMember(Path path, NativeIo io, boolean readOnly, long size, boolean punchWorks) {
        // No harmless probe exists for ZERO_RANGE (it allocates), so assume it works where
        // punching does and learn otherwise from the first EOPNOTSUPP (tmpfs punches but cannot).
        this.descriptor = new MemberDescriptor(path, io, size, readOnly, punchWorks, punchWorks);
    }

    /**
     * Opens an existing regular file as a member. Its size is fixed at this moment.
     *
     * @throws IOException naming the path: missing ({@link java.nio.file.NoSuchFileException}),
     *                     not a regular file (block devices are {@link BlockMember}s), or the OS
     *                     refused to open it (a {@link java.nio.file.FileSystemException} with the
     *                     kernel's reason, caused by the {@link NativeIoException})
     */
    public static FileMember open(Path path, boolean readOnly) throws IOException {
        int type = Members.type(path);
        if (type == Members.S_IFBLK) {
            throw new IOException(path + " is a block device, not a regular file (Members.open opens either)");
        }
        if (type != Members.S_IFREG) {
            throw Members.notAMember(path, type);
        }
        NativeIo io;
        try {
            io = NativeIo.open(path, (readOnly ? NativeIo.O_RDONLY : NativeIo.O_RDWR) | NativeIo.O_CLOEXEC, 0);
        } catch (NativeIoException e) {
            throw e.asFileSystemException();
        }
        try {
            if (!readOnly && !io.tryLockExclusive()) {
                throw new MemberInUseException(path);
            }
            long size = io.fileSize();
            return new FileMember(path, io, readOnly, size, !readOnly && probePunch(io, size));
        } catch (IOException | RuntimeException e) {
            MemberDescriptor.closeAfter(e, io);
            throw e;
        }
    }

    /**
     * Creates a new file of {@code size} bytes that allocates no space (reads as zeroes) and opens
     * it read-write, with mode 0600. Refuses with {@link java.nio.file.FileAlreadyExistsException}
     * if the path exists; on any failure the new file is removed again.
     */
    public static FileMember createSparse(Path path, long size) throws IOException {
        if (size <= 0) {
            throw new IllegalArgumentException("member size must be positive: " + size);
        }
        Files.createFile(path, OWNER_ONLY);
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
        return descriptor.path.toString();
    }

    @Override
    public long size() {
        return descriptor.size;
    }

    /** The file this member is. */
    public Path path() {
        return descriptor.path;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        int wanted = dst.remaining();
        descriptor.checkRange(offset, wanted);
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException(); // the kernel would write into it regardless
        }
        long position = offset;
        while (dst.hasRemaining()) {
            int n = descriptor.io.pread(dst, position);
            if (n == 0) {
                throw new EOFException(descriptor.path + ": short read at offset " + offset + ": end of file after "
                        + (position - offset) + " of " + wanted + " bytes; the file was " + descriptor.size
                        + " bytes when opened (was it truncated?)");
            }
            position += n;
        }
    }

    @Override
    public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        descriptor.checkWrite(offset, src.remaining());
        if (src.isDirect() || src.hasArray()) {
            writeFully(src, offset);
        } else {
            writeCopied(src, offset);
        }
        if (fua) {
            flush();
        }
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        descriptor.checkWrite(offset, length);
        if (length > 0 && !descriptor.tryZero(mayDeallocate, offset, length)) {
            writeZeroBuffers(offset, length);
        }
        if (fua) {
            flush();
        }
    }

    @Override
    public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
        return !descriptor.readOnly && (mayDeallocate ? descriptor.punchWorks() : descriptor.zeroRangeWorks());
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        descriptor.checkWrite(offset, length);
        if (length > 0) {
            descriptor.tryPunch(offset, length); // where unsupported, leaving old data is what trim allows
        }
        if (fua) {
            flush();
        }
    }

    /**
     * {@code fdatasync}. A failure is final: the kernel may have dropped the dirty pages it could
     * not write, so a later call that succeeds proves nothing. Never retry it as if it had
     * succeeded; treat the member as faulty.
     */
    @Override
    public void flush() throws IOException {
        descriptor.flush();
    }

    /**
     * The file was deleted while open (its link count is 0): writes still succeed, into an inode
     * that no path names and that vanishes at close, so the next start would miss this member.
     * Or it was truncated: reads past its new end fail, but a write there grows it again with a
     * hole, which then reads as zeroes instead of the data it held, so the sooner it is failed
     * the better. A file renamed or hard-linked elsewhere still has a name and is not lost.
     */
    @Override
    public String lost() throws IOException {
        if (descriptor.readOnly) {
            return null;
        }
        if (descriptor.io.linkCount() == 0) {
            return descriptor.path + " was deleted while parityd had it open (its link count is 0): what is written"
                    + " to it is lost when it closes";
        }
        long now = descriptor.io.fileSize();
        if (now < descriptor.size) {
            return descriptor.path + " was truncated while parityd had it open: it is " + now + " bytes, it was "
                    + descriptor.size;
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        descriptor.close();
    }

    @Override
    public String toString() {
        return "FileMember[" + descriptor.path + ", " + descriptor.size + " bytes"
                + (descriptor.readOnly ? ", read-only]" : "]");
    }

    private void writeZeroBuffers(long offset, long length) throws IOException {
        for (long position = offset; position < offset + length; ) {
            int n = (int) Math.min(ZEROES.capacity(), offset + length - position);
            writeFully(ZEROES.duplicate().limit(n), position);
            position += n;
        }
    }

    private void writeFully(ByteBuffer src, long offset) throws IOException {
        descriptor.io.pwriteFully(src, offset, "");
    }

    /**
     * A read-only heap buffer shows native code neither its array nor an address, so it goes
     * through this thread's scratch buffer, a piece at a time.
     */
    private void writeCopied(ByteBuffer src, long offset) throws IOException {
        ByteBuffer scratch = DirectIo.bounceBuffer();
        long position = offset;
        while (src.hasRemaining()) {
            int n = Math.min(src.remaining(), scratch.capacity());
            scratch.clear().put(0, src, src.position(), n).limit(n);
            writeFully(scratch, position);
            src.position(src.position() + n);
            position += n;
        }
    }

    /**
     * Whether this filesystem punches holes, asked without changing anything: a hole past the end
     * of the file with KEEP_SIZE frees nothing and leaves the size alone.
     */
    private static boolean probePunch(NativeIo io, long size) throws IOException {
        return MemberDescriptor.fallocate(io, MemberDescriptor.PUNCH, size, NativeIo.DIRECT_ALIGNMENT);
    }

    /** Makes a new directory entry durable, or a power loss could lose the file it names. */
    private static void syncDirectoryOf(Path path) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        try (FileChannel directory = FileChannel.open(parent, StandardOpenOption.READ)) {
            directory.force(true);
        }
    }
}
