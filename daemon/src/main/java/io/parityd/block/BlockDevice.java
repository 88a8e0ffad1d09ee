package io.parityd.block;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A range of bytes that can be read, written, zeroed, discarded and made durable. Offsets and
 * lengths are in bytes; callers keep them inside {@code [0, size())} and aligned as the
 * implementation documents (the RAID volume wants 512-byte alignment, a member file wants
 * none). Every method may block on I/O: never call one on a Netty event loop.
 *
 * <p>Thread safety: implementations accept concurrent calls. Overlapping concurrent writes land
 * in an unspecified order, as on a disk.
 *
 * <p>Errors: an {@link IOException} means the operation failed and the range may hold old, new
 * or mixed data; the caller decides what that means (a RAID volume marks the member faulty).
 * A failed {@link #flush()} is never retried as if it had succeeded.
 */
public interface BlockDevice extends Closeable {

    /** What an operator would call this device: a path, or {@code raid5:NAME}. */
    String describe();

    /** Usable size in bytes. */
    long size();

    /** Reads {@code dst.remaining()} bytes from {@code offset} into {@code dst}, filling it. */
    void read(ByteBuffer dst, long offset) throws IOException;

    /**
     * Writes all of {@code src.remaining()} at {@code offset}. With {@code fua} the data is durable
     * (as by {@link #flush()}) before this returns.
     */
    void write(ByteBuffer src, long offset, boolean fua) throws IOException;

    /**
     * Makes {@code [offset, offset+length)} read as zeroes. With {@code mayDeallocate} the device
     * may free the space (punch a hole); without it the space stays allocated
     * ({@code NBD_CMD_FLAG_NO_HOLE}).
     */
    void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException;

    /**
     * True if {@link #writeZeroes} of this range is cheaper than writing zero-filled buffers
     * ({@code NBD_CMD_FLAG_FAST_ZERO}): known before any byte changes, so a caller can refuse fast.
     */
    boolean zeroesFast(long offset, long length, boolean mayDeallocate);

    /**
     * A hint that the range is no longer needed. The device may do nothing. Whatever it does, the
     * range afterwards reads back as either its old contents or zeroes, and any redundancy the
     * device keeps stays consistent with what reads back.
     */
    void trim(long offset, long length, boolean fua) throws IOException;

    /** Makes every completed write durable (fdatasync). */
    void flush() throws IOException;

    /**
     * Why this device no longer keeps what is written to it although its I/O still succeeds, or
     * null while it does: a member file deleted while open takes writes into an inode nothing
     * names, lost when it closes. Cheap (one system call); a RAID volume asks every few seconds
     * and before it declares the array clean. Devices that cannot be lost that way say null.
     *
     * @throws IOException if the device cannot even be asked (its I/O has failed too)
     */
    default String lost() throws IOException {
        return null;
    }
}
