package io.parityd.member;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What {@link FileMember} and {@link BlockMember} share: one open {@link NativeIo} descriptor, the
 * path it names, the size and mode fixed at open, the checks before every request, the
 * {@code fallocate} zeroing modes, flush and close.
 *
 * <p>A zeroing mode is tried until its first {@code EOPNOTSUPP}, then never again: the member
 * goes straight to its fallback, and {@code zeroesFast} answers from what it learned without a
 * system call. Nothing has changed on the member when a mode turns out not to work.
 */
final class MemberDescriptor {

    static final int PUNCH = NativeIo.FALLOC_FL_PUNCH_HOLE | NativeIo.FALLOC_FL_KEEP_SIZE;
    static final int ZERO_RANGE = NativeIo.FALLOC_FL_ZERO_RANGE | NativeIo.FALLOC_FL_KEEP_SIZE;

    final Path path;
    final NativeIo io;
    final long size;
    final boolean readOnly;
    private volatile boolean punchWorks;
    private volatile boolean zeroRangeWorks;

    MemberDescriptor(Path path, NativeIo io, long size, boolean readOnly, boolean punchWorks, boolean zeroRangeWorks) {
        this.path = path;
        this.io = io;
        this.size = size;
        this.readOnly = readOnly;
        this.punchWorks = punchWorks;
        this.zeroRangeWorks = zeroRangeWorks;
    }

    /** True until {@code PUNCH_HOLE} answered {@code EOPNOTSUPP} here. */
    boolean punchWorks() {
        return punchWorks;
    }

    /** True until {@code ZERO_RANGE} answered {@code EOPNOTSUPP} here. */
    boolean zeroRangeWorks() {
        return zeroRangeWorks;
    }

    /** Zeroes by {@code PUNCH_HOLE} if {@code mayDeallocate}, else {@code ZERO_RANGE}; false where that mode does not work. */
    boolean tryZero(boolean mayDeallocate, long offset, long length) throws IOException {
        return mayDeallocate ? tryPunch(offset, length) : tryZeroRange(offset, length);
    }

    boolean tryPunch(long offset, long length) throws IOException {
        if (!punchWorks) {
            return false;
        }
        if (fallocate(io, PUNCH, offset, length)) {
            return true;
        }
        punchWorks = false;
        return false;
    }

    private boolean tryZeroRange(long offset, long length) throws IOException {
        if (!zeroRangeWorks) {
            return false;
        }
        if (fallocate(io, ZERO_RANGE, offset, length)) {
            return true;
        }
        zeroRangeWorks = false;
        return false;
    }

    /** False when the filesystem or device does not support the mode; nothing has changed then. */
    static boolean fallocate(NativeIo io, int mode, long offset, long length) throws IOException {
        try {
            io.fallocate(mode, offset, length);
            return true;
        } catch (NativeIoException e) {
            if (e.errno() == NativeIo.EOPNOTSUPP) {
                return false;
            }
            throw e;
        }
    }

    /** The checks before any change: the member is writable and the range lies inside it. */
    void checkWrite(long offset, long length) throws IOException {
        if (readOnly) {
            throw new IOException(path + " is open read-only; this member cannot be changed");
        }
        checkRange(offset, length);
    }

    /** A range outside the member is a caller bug, never a reason to grow a file. */
    void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IndexOutOfBoundsException(path + ": range at " + offset + " of " + length
                    + " bytes is outside the member's " + size + " bytes");
        }
    }

    /** {@code fdatasync}; a failure is final, as the members' {@code flush} explains. */
    void flush() throws IOException {
        io.fdatasync();
    }

    void close() throws IOException {
        io.close();
    }

    /** Closes {@code io} after {@code failure} ended an open, keeping a failure to close with it. */
    static void closeAfter(Exception failure, NativeIo io) {
        try {
            io.close();
        } catch (IOException | RuntimeException cleanup) {
            failure.addSuppressed(cleanup);
        }
    }
}
