package io.parityd.member;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import io.parityd.block.BlockDevice;

/**
 * A RAID member that is a raw block device (DESIGN.md, "RAID": member I/O): a disk, a partition,
 * a dm or loop device, reached through {@link NativeIo} with {@code O_DIRECT}, so parityd's view
 * is the device's and no page cache sits between the RAID engine and the disk.
 *
 * <ul>
 *   <li><b>Open.</b> Read-write opens add {@code O_EXCL}: the kernel then refuses a device that
 *       is mounted or held open exclusively by md, LVM or another parityd, and keeps others from
 *       doing so while we hold it. Read-only opens (for inspection) are not exclusive.</li>
 *   <li><b>Size and sector.</b> {@code BLKGETSIZE64} and {@code BLKSSZGET}, fixed at open.</li>
 *   <li><b>Read and write.</b> {@code pread}/{@code pwrite} through {@link DirectIo}: straight from
 *       the caller's buffer when it is a direct buffer at a 4096-aligned address and the range is
 *       in whole logical sectors; through a per-thread bounce buffer otherwise; and by
 *       read-modify-write of the enclosing sectors when the range is not in whole sectors (a
 *       512-byte request on a 4 KiB-sector device). The RAID engine should keep requests to
 *       whole sectors of {@link #logicalSectorSize()} and buffers aligned: the bounce costs a
 *       copy, read-modify-write costs a read and is not crash-atomic outside the request.</li>
 *   <li><b>Zeroing</b> of whole sectors: with {@code mayDeallocate}, {@code fallocate(PUNCH_HOLE)},
 *       which on a block device means "zero, unmapping where the device can" and only succeeds
 *       where the device zeroes without data transfer; without it, {@code fallocate(ZERO_RANGE)}.
 *       Either falls back to {@code BLKZEROOUT} and then to writing zero buffers. Partial
 *       sectors at the ends are written as zeroes.</li>
 *   <li><b>Trim</b> is a hint, and the contract demands the range read back as old data or
 *       zeroes. Plain {@code BLKDISCARD} does not promise that (SSDs may return garbage or
 *       {@code 0xff} after a discard, and Linux no longer claims otherwise); a member that read
 *       back garbage would make parity lie. So trim punches a hole in whole sectors, which the
 *       kernel guarantees reads back as zeroes, where the device can do that cheaply, and
 *       otherwise does nothing. Linux md makes the same choice for RAID 4/5/6
 *       ({@code raid456.devices_handle_discard_safely}, off by default).</li>
 * </ul>
 *
 * <p>Ranges outside {@code [0, size())} are a caller bug and throw
 * {@link IndexOutOfBoundsException}. Buffers advance their position by what moved. A thread
 * interrupted during I/O here is not affected (unlike {@link java.nio.channels.FileChannel}).
 */
public final class BlockMember implements BlockDevice {

    private static final int READ_WRITE = NativeIo.O_RDWR | NativeIo.O_DIRECT | NativeIo.O_CLOEXEC | NativeIo.O_EXCL;
    private static final int READ_ONLY = NativeIo.O_RDONLY | NativeIo.O_DIRECT | NativeIo.O_CLOEXEC;

    private final MemberDescriptor descriptor;
    private final DirectIo direct;
    private volatile boolean zeroOutWorks = true;

    /**
     * PUNCH_HOLE on a block device never falls back to writing, so it works exactly where the
     * device zeroes without data transfer: {@code zeroingOffloaded}, from sysfs, until the first
     * EOPNOTSUPP says otherwise.
     */
    private BlockMember(Path path, NativeIo io, int sectorSize, long size, boolean readOnly, boolean zeroingOffloaded) {
        this.descriptor = new MemberDescriptor(path, io, size, readOnly, zeroingOffloaded, true);
        this.direct = new DirectIo(io, sectorSize);
    }

    /**
     * Opens a block device as a member: read-write and exclusive for serving, or read-only (not
     * exclusive) for inspection.
     *
     * @throws java.nio.file.NoSuchFileException if nothing is at {@code path}
     * @throws IOException naming the path: not a block device; in use (mounted, or held by md or
     *                     another parityd); refused by the OS (a {@link java.nio.file.FileSystemException}
     *                     with the kernel's reason, caused by the {@link NativeIoException}); a sector
     *                     size we cannot handle; or the call that failed
     */
    public static BlockMember open(Path path, boolean readOnly) throws IOException {
        int type = Members.type(path);
        if (type != Members.S_IFBLK) {
            throw new IOException(path + " is " + Members.typeName(type) + ", not a block device");
        }
        NativeIo io = openDescriptor(path, readOnly);
        try {
            long size = io.blockDeviceSize();
            int sectorSize = io.logicalSectorSize();
            if (sectorSize < 512 || sectorSize > DirectIo.MAX_BLOCK_SIZE || Integer.bitCount(sectorSize) != 1) {
                throw new IOException(path + " reports a logical sector size of " + sectorSize
                        + " bytes; parityd handles powers of two from 512 to " + DirectIo.MAX_BLOCK_SIZE);
            }
            boolean offloaded = !readOnly && QueueLimits.offloadsZeroing(path);
            return new BlockMember(path, io, sectorSize, size, readOnly, offloaded);
        } catch (IOException | RuntimeException e) {
            MemberDescriptor.closeAfter(e, io);
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

    /** The device this member is. */
    public Path path() {
        return descriptor.path;
    }

    /**
     * The device's logical sector size ({@code BLKSSZGET}): requests in whole sectors of it, from
     * direct buffers at 4096-aligned addresses, go to the device without a copy.
     */
    public int logicalSectorSize() {
        return direct.blockSize();
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        descriptor.checkRange(offset, dst.remaining());
        direct.read(dst, offset);
    }

    @Override
    public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        descriptor.checkWrite(offset, src.remaining());
        direct.write(src, offset);
        if (fua) {
            flush();
        }
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        descriptor.checkWrite(offset, length);
        long end = offset + length;
        long wholeStart = direct.alignUp(offset);
        long wholeEnd = direct.alignDown(end);
        if (wholeStart >= wholeEnd) {
            direct.writeZeroes(offset, length);
        } else {
            if (offset < wholeStart) {
                direct.writeZeroes(offset, wholeStart - offset);
            }
            zeroWholeSectors(wholeStart, wholeEnd - wholeStart, mayDeallocate);
            if (wholeEnd < end) {
                direct.writeZeroes(wholeEnd, end - wholeEnd);
            }
        }
        if (fua) {
            flush();
        }
    }

    /** True where the device zeroes without data transfer (sysfs {@code write_zeroes_max_bytes} &gt; 0). */
    @Override
    public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
        return !descriptor.readOnly && descriptor.punchWorks();
    }

    /** Punches a hole in the whole sectors of the range where the device can; see the class comment. */
    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        descriptor.checkWrite(offset, length);
        long wholeStart = direct.alignUp(offset);
        long wholeEnd = direct.alignDown(offset + length);
        if (wholeStart < wholeEnd) {
            descriptor.tryPunch(wholeStart, wholeEnd - wholeStart);
        }
        if (fua) {
            flush();
        }
    }

    /**
     * {@code fdatasync}: completed writes are on stable storage, the device's write cache
     * included. A failure is final: the device may have lost writes that had already returned,
     * and a later call that succeeds proves nothing, so never retry it as if it had succeeded;
     * treat the member as faulty.
     */
    @Override
    public void flush() throws IOException {
        descriptor.flush();
    }

    /** Closes the descriptor, which also releases the exclusive claim. */
    @Override
    public void close() throws IOException {
        descriptor.close();
    }

    @Override
    public String toString() {
        return "BlockMember[" + descriptor.path + ", " + descriptor.size + " bytes, " + direct.blockSize()
                + "-byte sectors" + (descriptor.readOnly ? ", read-only]" : "]");
    }

    /** Requests that were copied through the bounce buffer since open. */
    long bouncedRequests() {
        return direct.bounced();
    }

    /** Bounce-sized pieces written by read-modify-write since open. */
    long readModifyWrites() {
        return direct.readModifyWrites();
    }

    private static NativeIo openDescriptor(Path path, boolean readOnly) throws IOException {
        try {
            return NativeIo.open(path, readOnly ? READ_ONLY : READ_WRITE, 0);
        } catch (NativeIoException e) {
            if (e.errno() == NativeIo.EBUSY && !readOnly) {
                MemberInUseException busy = new MemberInUseException(path, "in use (mounted, or held by another"
                        + " program such as md or another parityd); unmount it or stop that program, or name another"
                        + " device");
                busy.initCause(e);
                throw busy;
            }
            throw e.asFileSystemException();
        }
    }

    private void zeroWholeSectors(long offset, long length, boolean mayDeallocate) throws IOException {
        if (descriptor.tryZero(mayDeallocate, offset, length) || tryZeroOut(offset, length)) {
            return;
        }
        direct.writeZeroes(offset, length);
    }

    private boolean tryZeroOut(long offset, long length) throws IOException {
        if (!zeroOutWorks) {
            return false;
        }
        try {
            descriptor.io.zeroOut(offset, length);
            return true;
        } catch (NativeIoException e) {
            if (e.errno() != NativeIo.EOPNOTSUPP && e.errno() != NativeIo.ENOTTY) {
                throw e;
            }
        }
        zeroOutWorks = false;
        return false;
    }
}
