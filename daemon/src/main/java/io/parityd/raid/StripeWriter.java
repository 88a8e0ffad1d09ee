package io.parityd.raid;

import io.parityd.block.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes one stripe's worth of a request and keeps its parity right (DESIGN.md "RAID", "The
 * write path" step 4). One instance per thread, reused for every request: it owns that thread's
 * scratch, two chunk-sized direct buffers (new parity, and old data read back), so the write
 * path allocates nothing.
 *
 * <p>A full stripe computes parity from the new data alone and reads nothing. A partial stripe
 * splits its affected columns (byte positions within a chunk) at the write's start and end
 * offsets in the chunk, so that within each segment the same chunks are written; each segment
 * then takes whichever of read-modify-write ({@code P' = P ^ Dold ^ Dnew}; reads the written
 * chunks and P) or reconstruct-write ({@code P' = XOR of all}; reads the unwritten chunks) reads
 * fewer bytes. A tie goes to reconstruct-write, as md does by default (raid5.c
 * {@code handle_stripe_dirtying}), because it rebuilds P from data rather than carrying forward
 * whatever P held. All reads finish before any write, so old data is never read after it was
 * overwritten.
 *
 * <p>A {@code null} source means "write zeroes": data ranges go to the members'
 * {@code writeZeroes} (no zero buffer, no payload) and contribute nothing to the XOR.
 *
 * <p>The caller holds the stripe's lock. Not thread-safe: confined to its thread.
 */
final class StripeWriter {

    private final BlockDevice[] members;
    private final Layout layout;
    private final int chunk;
    private final int dataChunks;
    private final ByteBuffer parity;
    private final ByteBuffer old;

    /** Segment boundaries {@code 0 <= c1 <= c2 <= chunk} of the stripe being written. */
    private final int[] cuts = new int[4];

    // The stripe in progress; set by write(), read by the helpers below.
    private ByteBuffer src;
    private int srcLimit;
    private int srcBase;
    private long stripe;
    private int firstChunk;
    private int lastChunk;
    private int startCol;
    private int endCol;
    private boolean mayDeallocate;

    StripeWriter(BlockDevice[] members, Layout layout) {
        this.members = members;
        this.layout = layout;
        this.chunk = layout.chunkSize();
        this.dataChunks = layout.dataChunks();
        this.parity = alignedDirect(chunk);
        this.old = alignedDirect(chunk);
    }

    /** Direct memory one instance reserves: two chunks, each with up to 4 KiB alignment slack. */
    static long scratchBytes(int chunkSize) {
        return 2L * (chunkSize + 4096);
    }

    /**
     * Writes stripe-relative bytes {@code [from, to)} of {@code stripe}, taken from
     * {@code src[srcIndex..)} (or zeroes if {@code src} is null), and their parity.
     *
     * @return bit mask of the members written, for a following FUA flush
     */
    long write(ByteBuffer src, int srcIndex, long stripe, int from, int to, boolean mayDeallocate)
            throws IOException {
        this.src = src;
        this.srcLimit = src == null ? 0 : src.limit();
        this.srcBase = srcIndex - from;
        this.stripe = stripe;
        this.firstChunk = from / chunk;
        this.lastChunk = (to - 1) / chunk;
        this.startCol = from - firstChunk * chunk;
        this.endCol = to - lastChunk * chunk;
        this.mayDeallocate = mayDeallocate;
        try {
            if (from == 0 && to == dataChunks * chunk) {
                return writeFull();
            }
            return writePartial();
        } finally {
            this.src = null;
        }
    }

    private long writeFull() throws IOException {
        if (src == null) {
            for (BlockDevice m : members) {
                m.writeZeroes(layout.memberOffset(stripe, 0), chunk, mayDeallocate, false);
            }
            return allMembers();
        }
        Parity.copy(parity, 0, src, srcBase, chunk);
        for (int d = 1; d < dataChunks; d++) {
            Parity.xorInto(parity, 0, src, srcBase + d * chunk, chunk);
        }
        long touched = writeData();
        writeParity(0, chunk);
        return touched | bit(layout.parityMember(stripe));
    }

    private long writePartial() throws IOException {
        splitColumns();
        for (int i = 0; i < 3; i++) {
            int x0 = cuts[i];
            int x1 = cuts[i + 1];
            int written = x0 < x1 ? writtenCount(x0) : 0;
            if (written == 0) {
                continue;
            }
            int rmwReads = written + 1;
            int rcwReads = dataChunks - written;
            if (rmwReads < rcwReads) {
                readModify(x0, x1 - x0);
            } else {
                reconstruct(x0, x1 - x0);
            }
        }
        long touched = writeData();
        writeParityRuns();
        return touched | bit(layout.parityMember(stripe));
    }

    /** Columns [0, c1), [c1, c2), [c2, chunk): within each, the written set is constant. */
    private void splitColumns() {
        cuts[0] = 0;
        cuts[1] = Math.min(startCol, endCol);
        cuts[2] = Math.max(startCol, endCol);
        cuts[3] = chunk;
    }

    /** True if data chunk {@code d} is written at column {@code x}. */
    private boolean isWritten(int d, int x) {
        if (d < firstChunk || d > lastChunk) {
            return false;
        }
        return (d != firstChunk || x >= startCol) && (d != lastChunk || x < endCol);
    }

    private int writtenCount(int x) {
        int n = 0;
        for (int d = firstChunk; d <= lastChunk; d++) {
            if (isWritten(d, x)) {
                n++;
            }
        }
        return n;
    }

    /** P' = P ^ Dold ^ Dnew over columns [x, x+len): reads P and every written chunk. */
    private void readModify(int x, int len) throws IOException {
        long off = layout.memberOffset(stripe, x);
        readInto(parity, layout.parityMember(stripe), x, len, off);
        for (int d = firstChunk; d <= lastChunk; d++) {
            if (!isWritten(d, x)) {
                continue;
            }
            readInto(old, layout.dataMember(stripe, d), x, len, off);
            if (src == null) {
                Parity.xorInto(parity, x, old, x, len);
            } else {
                Parity.update(parity, x, old, x, src, srcBase + d * chunk + x, len);
            }
        }
    }

    /** P' = XOR of new written data and old unwritten data over [x, x+len). */
    private void reconstruct(int x, int len) throws IOException {
        long off = layout.memberOffset(stripe, x);
        boolean empty = true;
        for (int d = 0; d < dataChunks; d++) {
            boolean written = isWritten(d, x);
            if (written && src == null) {
                continue;
            }
            if (!written && empty) {
                readInto(parity, layout.dataMember(stripe, d), x, len, off);
            } else if (!written) {
                readInto(old, layout.dataMember(stripe, d), x, len, off);
                Parity.xorInto(parity, x, old, x, len);
            } else if (empty) {
                Parity.copy(parity, x, src, srcBase + d * chunk + x, len);
            } else {
                Parity.xorInto(parity, x, src, srcBase + d * chunk + x, len);
            }
            empty = false;
        }
        if (empty) {
            Parity.clear(parity, x, len);
        }
    }

    /** Writes each written chunk as one member write from a window of the caller's buffer. */
    private long writeData() throws IOException {
        long touched = 0;
        for (int d = firstChunk; d <= lastChunk; d++) {
            int x0 = d == firstChunk ? startCol : 0;
            int x1 = d == lastChunk ? endCol : chunk;
            int member = layout.dataMember(stripe, d);
            long off = layout.memberOffset(stripe, x0);
            if (src == null) {
                members[member].writeZeroes(off, x1 - x0, mayDeallocate, false);
            } else {
                window(src, srcBase + d * chunk + x0, x1 - x0);
                try {
                    members[member].write(src, off, false);
                } finally {
                    src.limit(srcLimit);
                }
            }
            touched |= bit(member);
        }
        return touched;
    }

    /** Writes new parity for the affected columns, merging adjacent segments into one write. */
    private void writeParityRuns() throws IOException {
        int runStart = -1;
        int runEnd = -1;
        for (int i = 0; i < 3; i++) {
            int x0 = cuts[i];
            int x1 = cuts[i + 1];
            if (x0 == x1 || writtenCount(x0) == 0) {
                continue;
            }
            if (runStart >= 0 && x0 != runEnd) {
                writeParity(runStart, runEnd - runStart);
                runStart = -1;
            }
            if (runStart < 0) {
                runStart = x0;
            }
            runEnd = x1;
        }
        if (runStart >= 0) {
            writeParity(runStart, runEnd - runStart);
        }
    }

    private void writeParity(int x, int len) throws IOException {
        window(parity, x, len);
        try {
            members[layout.parityMember(stripe)].write(parity, layout.memberOffset(stripe, x), false);
        } finally {
            parity.limit(chunk);
        }
    }

    private void readInto(ByteBuffer buf, int member, int x, int len, long memberOffset) throws IOException {
        window(buf, x, len);
        try {
            members[member].read(buf, memberOffset);
        } finally {
            buf.limit(chunk);
        }
    }

    /**
     * Narrows {@code buf} to {@code [index, index+len)} in place: the member I/O calls take
     * {@code remaining()} bytes, and a window costs no allocation where {@link ByteBuffer#slice}
     * would. Absolute accesses are checked against the limit, so every window is reopened right
     * after its one member call; the volume restores the caller's position and limit at the end.
     */
    static void window(ByteBuffer buf, int index, int len) {
        buf.limit(index + len).position(index);
    }

    private long allMembers() {
        int n = members.length;
        return n == 64 ? -1L : (1L << n) - 1;
    }

    private static long bit(int member) {
        return 1L << member;
    }

    /** Aligned to 4 KiB so an O_DIRECT member can read into and write from it directly. */
    private static ByteBuffer alignedDirect(int size) {
        return ByteBuffer.allocateDirect(size + 4096).alignedSlice(4096).limit(size);
    }
}
