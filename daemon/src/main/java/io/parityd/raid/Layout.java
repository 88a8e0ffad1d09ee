package io.parityd.raid;

/**
 * Where each byte of the volume lives on the members: md's default RAID-5 layout,
 * {@code ALGORITHM_LEFT_SYMMETRIC} (drivers/md/raid5.c {@code raid5_compute_sector}), as
 * DESIGN.md "RAID" requires. For stripe {@code s} on {@code n} members the parity chunk is on
 * member {@code (n-1) - (s mod n)} and data chunk {@code d} (0-based within the stripe) on member
 * {@code (p + 1 + d) mod n}, so parity rotates right-to-left and data always starts just after
 * it; sequential data therefore visits every member in turn.
 *
 * <pre>
 *   5 members:  m0  m1  m2  m3  m4
 *   stripe 0:   D0  D1  D2  D3  P
 *   stripe 1:   D5  D6  D7  P   D4
 *   stripe 2:   D10 D11 P   D8  D9
 * </pre>
 *
 * <p>A volume offset splits into (stripe, data index, offset in chunk); on every member the
 * chunk of stripe {@code s} starts at {@code dataOffset + s * chunk}. All methods are pure
 * arithmetic on primitives and allocate nothing, because the I/O path calls them per chunk.
 *
 * <p>Other levels (issue 3) slot in here: RAID-4 pins parity to the last member, RAID-6 adds Q on
 * {@code (p + 1) mod n} with data from {@code p + 2}, RAID-0 has no parity. Callers already ask
 * for {@link #dataMember} and {@link #parityMember} rather than computing positions themselves.
 */
public final class Layout {

    private final int memberCount;
    private final int dataChunks;
    private final int chunkShift;
    private final int chunkMask;
    private final long stripeDataSize;
    private final long dataOffset;

    public Layout(ArrayGeometry geometry) {
        if (geometry.level() != 5) {
            throw new IllegalArgumentException("only RAID-5 layouts exist so far, not level " + geometry.level());
        }
        this.memberCount = geometry.memberCount();
        this.dataChunks = geometry.dataMembers();
        this.chunkShift = Integer.numberOfTrailingZeros(geometry.chunkSize());
        this.chunkMask = geometry.chunkSize() - 1;
        this.stripeDataSize = geometry.stripeDataSize();
        this.dataOffset = geometry.dataOffset();
    }

    /** Members in a stripe, data and parity. */
    public int memberCount() {
        return memberCount;
    }

    /** Data chunks in a stripe. */
    public int dataChunks() {
        return dataChunks;
    }

    /** Bytes per chunk. */
    public int chunkSize() {
        return chunkMask + 1;
    }

    /** Volume bytes per stripe. */
    public long stripeDataSize() {
        return stripeDataSize;
    }

    /** The stripe holding a volume offset. */
    public long stripeOf(long volumeOffset) {
        return volumeOffset / stripeDataSize;
    }

    /** Which data chunk of its stripe holds a volume offset (0-based). */
    public int dataIndexOf(long volumeOffset) {
        return (int) ((volumeOffset % stripeDataSize) >>> chunkShift);
    }

    /** Byte position of a volume offset inside its chunk. */
    public int offsetInChunk(long volumeOffset) {
        return (int) (volumeOffset & chunkMask);
    }

    /** Member holding the parity chunk of a stripe. */
    public int parityMember(long stripe) {
        return (memberCount - 1) - (int) (stripe % memberCount);
    }

    /** Member holding data chunk {@code dataIndex} of a stripe. */
    public int dataMember(long stripe, int dataIndex) {
        int m = parityMember(stripe) + 1 + dataIndex;
        return m >= memberCount ? m - memberCount : m;
    }

    /**
     * The data index that member {@code member} holds in a stripe, or -1 if it holds the parity.
     * A reconstructing read or rebuild needs this inverse.
     */
    public int dataIndexOnMember(long stripe, int member) {
        int p = parityMember(stripe);
        if (member == p) {
            return -1;
        }
        int d = member - p - 1;
        return d < 0 ? d + memberCount : d;
    }

    /** Byte offset on a member of column {@code offsetInChunk} of a stripe (any chunk of it). */
    public long memberOffset(long stripe, int offsetInChunk) {
        return dataOffset + (stripe << chunkShift) + offsetInChunk;
    }

    /** Member holding a volume offset. */
    public int memberOf(long volumeOffset) {
        return dataMember(stripeOf(volumeOffset), dataIndexOf(volumeOffset));
    }

    /** Byte offset on {@link #memberOf} that holds a volume offset. */
    public long memberOffsetOf(long volumeOffset) {
        return memberOffset(stripeOf(volumeOffset), offsetInChunk(volumeOffset));
    }

    /** The volume offset of a position in a stripe; the inverse of the three splitting methods. */
    public long volumeOffset(long stripe, int dataIndex, int offsetInChunk) {
        return stripe * stripeDataSize + ((long) dataIndex << chunkShift) + offsetInChunk;
    }
}
