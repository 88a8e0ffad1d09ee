package io.parityd.member;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Moves byte ranges of any alignment through an {@code O_DIRECT} descriptor, which itself takes
 * only whole logical blocks (offset and length) from memory aligned to
 * {@link NativeIo#DIRECT_ALIGNMENT}. Three paths, cheapest first:
 *
 * <ol>
 *   <li><b>Straight</b>: a direct buffer at an aligned address, with offset and length in whole
 *       blocks, goes to {@code pread}/{@code pwrite} as it is: no copy.</li>
 *   <li><b>Bounced</b>: anything else in whole blocks (heap buffers, direct buffers at odd
 *       addresses) is copied through this thread's aligned bounce buffer of
 *       {@link #BOUNCE_SIZE} bytes, one bounce-sized piece at a time.</li>
 *   <li><b>Read-modify-write</b>: a write that starts or ends inside a block (512 bytes on a
 *       4 KiB-sector device) first reads the enclosing blocks, then writes them whole. It costs a
 *       read and is not atomic against a crash: a torn write can damage the bytes of the block
 *       outside the request. The RAID engine should keep its member I/O aligned to the member's
 *       logical sector size so this path never runs.</li>
 * </ol>
 *
 * <p>Concurrent read-modify-writes into the same block are serialized by a small array of block
 * locks, so two writers of disjoint bytes in one block cannot undo each other. A write that
 * covers the whole block while another writes part of it overlaps that other write, and
 * overlapping concurrent writes have no defined outcome ({@link io.parityd.block.BlockDevice}).
 *
 * <p>Buffers advance their position by what moved, as {@link java.nio.channels.FileChannel}'s do.
 */
final class DirectIo {

    /** Bytes of one thread's bounce buffer. */
    static final int BOUNCE_SIZE = 1 << 20;

    /** Largest logical block size accepted: two blocks must fit in the bounce buffer. */
    static final int MAX_BLOCK_SIZE = BOUNCE_SIZE / 2;

    /** Block locks per device: enough that unrelated read-modify-writes rarely share one. */
    private static final int BLOCK_LOCKS = 64;

    /**
     * One aligned scratch buffer per thread. Static on purpose: it holds nothing between calls,
     * so sharing it across devices (and controllers in one JVM) shares memory, never state, and
     * bounds scratch memory by threads rather than threads × members.
     */
    private static final ThreadLocal<ByteBuffer> BOUNCE =
            ThreadLocal.withInitial(() -> NativeIo.alignedBuffer(BOUNCE_SIZE));

    /** Zeroes for writing zero ranges; read-only, aligned, shared by every device. */
    private static final ByteBuffer ZEROES = NativeIo.alignedBuffer(BOUNCE_SIZE).asReadOnlyBuffer();

    private final NativeIo io;
    private final int blockSize;
    private final int memoryAlignment;
    private final ReentrantLock[] blockLocks = new ReentrantLock[BLOCK_LOCKS];
    private final LongAdder bounced = new LongAdder();
    private final LongAdder readModifyWrites = new LongAdder();

    /**
     * @param blockSize the logical block size: a power of two from 512 to {@link #MAX_BLOCK_SIZE}
     */
    DirectIo(NativeIo io, int blockSize) {
        if (blockSize < 512 || blockSize > MAX_BLOCK_SIZE || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException(io.path() + ": logical block size " + blockSize
                    + " is not a power of two from 512 to " + MAX_BLOCK_SIZE);
        }
        this.io = io;
        this.blockSize = blockSize;
        this.memoryAlignment = Math.max(NativeIo.DIRECT_ALIGNMENT, blockSize);
        for (int i = 0; i < BLOCK_LOCKS; i++) {
            blockLocks[i] = new ReentrantLock();
        }
    }

    /** This thread's aligned scratch buffer of {@link #BOUNCE_SIZE} bytes; its content does not survive a call. */
    static ByteBuffer bounceBuffer() {
        return BOUNCE.get();
    }

    int blockSize() {
        return blockSize;
    }

    /** Requests that went through the bounce buffer (paths 2 and 3) since open. */
    long bounced() {
        return bounced.sum();
    }

    /** Bounce-sized pieces that needed a read-modify-write (path 3) since open. */
    long readModifyWrites() {
        return readModifyWrites.sum();
    }

    /** Fills {@code dst} from {@code offset}. */
    void read(ByteBuffer dst, long offset) throws IOException {
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException(); // the kernel would write into a direct one regardless
        }
        if (straight(dst, offset)) {
            readFully(dst, offset);
            return;
        }
        bounced.increment();
        ByteBuffer bounce = BOUNCE.get();
        long position = offset;
        while (dst.hasRemaining()) {
            long first = alignDown(position);
            int skip = (int) (position - first);
            int take = Math.min(dst.remaining(), bounce.capacity() - skip);
            int span = (int) (alignUp(position + take) - first);
            readFully(bounce.clear().limit(span), first);
            dst.put(dst.position(), bounce, skip, take);
            dst.position(dst.position() + take);
            position += take;
        }
    }

    /** Writes all of {@code src} at {@code offset}. */
    void write(ByteBuffer src, long offset) throws IOException {
        if (straight(src, offset)) {
            writeFully(src, offset);
            return;
        }
        bounced.increment();
        ByteBuffer bounce = BOUNCE.get();
        long position = offset;
        while (src.hasRemaining()) {
            long first = alignDown(position);
            int skip = (int) (position - first);
            int take = Math.min(src.remaining(), bounce.capacity() - skip);
            int span = (int) (alignUp(position + take) - first);
            if (skip == 0 && take == span) {
                bounce.clear().put(0, src, src.position(), take);
                writeFully(bounce.limit(span), first);
            } else {
                readModifyWrite(bounce, src, first, skip, take, span);
            }
            src.position(src.position() + take);
            position += take;
        }
    }

    /** Writes zeroes over the range: whole blocks straight from a zero buffer, edges by read-modify-write. */
    void writeZeroes(long offset, long length) throws IOException {
        long end = offset + length;
        long wholeStart = alignUp(offset);
        long wholeEnd = alignDown(end);
        if (wholeStart >= wholeEnd) {
            write(ZEROES.duplicate().limit((int) length), offset);
            return;
        }
        if (offset < wholeStart) {
            write(ZEROES.duplicate().limit((int) (wholeStart - offset)), offset);
        }
        for (long at = wholeStart; at < wholeEnd; ) {
            int n = (int) Math.min(ZEROES.capacity(), wholeEnd - at);
            writeFully(ZEROES.duplicate().limit(n), at);
            at += n;
        }
        if (wholeEnd < end) {
            write(ZEROES.duplicate().limit((int) (end - wholeEnd)), wholeEnd);
        }
    }

    long alignDown(long offset) {
        return offset & -blockSize;
    }

    long alignUp(long offset) {
        return (offset + blockSize - 1) & -blockSize;
    }

    /** Whether the kernel can take this buffer and range as they are. */
    private boolean straight(ByteBuffer buffer, long offset) {
        return buffer.isDirect()
                && ((offset | buffer.remaining()) & (blockSize - 1)) == 0
                && buffer.alignmentOffset(buffer.position(), memoryAlignment) == 0;
    }

    /**
     * Writes {@code take} bytes of {@code src} at {@code first + skip} by reading the partial
     * head and tail blocks of {@code [first, first + span)} into the bounce buffer first.
     */
    private void readModifyWrite(ByteBuffer bounce, ByteBuffer src, long first, int skip, int take, int span)
            throws IOException {
        readModifyWrites.increment();
        boolean partialHead = skip != 0;
        boolean partialTail = skip + take != span;
        long lastBlock = first + span - blockSize;
        int headLock = partialHead ? lockIndex(first) : -1;
        int tailLock = partialTail ? lockIndex(lastBlock) : -1;
        int low = headLock < 0 ? tailLock : tailLock < 0 ? headLock : Math.min(headLock, tailLock);
        int high = Math.max(headLock, tailLock) == low ? -1 : Math.max(headLock, tailLock);
        // Always lower index first, so two writers taking the same pair cannot deadlock.
        blockLocks[low].lock();
        if (high >= 0) {
            blockLocks[high].lock();
        }
        try {
            if (partialHead) {
                readFully(bounce.clear().limit(blockSize), first);
            }
            if (partialTail && !(partialHead && lastBlock == first)) {
                readFully(bounce.limit(span).position(span - blockSize), lastBlock);
            }
            bounce.clear().put(skip, src, src.position(), take);
            writeFully(bounce.limit(span), first);
        } finally {
            if (high >= 0) {
                blockLocks[high].unlock();
            }
            blockLocks[low].unlock();
        }
    }

    private int lockIndex(long blockOffset) {
        return (int) ((blockOffset / blockSize) & (BLOCK_LOCKS - 1));
    }

    private void readFully(ByteBuffer dst, long offset) throws IOException {
        long position = offset;
        while (dst.hasRemaining()) {
            int n = io.pread(dst, position);
            if (n == 0) {
                throw new EOFException(io.path() + ": short read at offset " + position + ": the device ended "
                        + dst.remaining() + " bytes early (did it shrink?)");
            }
            position += n;
        }
    }

    private void writeFully(ByteBuffer src, long offset) throws IOException {
        io.pwriteFully(src, offset, " (did the device shrink?)");
    }
}
