package io.parityd.raid;

/**
 * Where each byte of the volume lives on the members, for every level (DESIGN.md "RAID"). On
 * every member the chunk of stripe {@code s} starts at {@code dataOffset + s * chunk}; levels
 * differ only in which member holds which chunk of a stripe:
 *
 * <ul>
 *   <li>RAID-0: data chunk {@code d} on member {@code d}; no parity.</li>
 *   <li>RAID-1: one data chunk per stripe, held by every member at the same offset
 *       ({@link #dataMember} names member 0; the mirror volume reads any copy).</li>
 *   <li>RAID-4: data chunk {@code d} on member {@code d}, P always on the last member.</li>
 *   <li>RAID-5: md's {@code ALGORITHM_LEFT_SYMMETRIC} (drivers/md/raid5.c
 *       {@code raid5_compute_sector}): P on {@code p = (n-1) - (s mod n)}, data chunk {@code d} on
 *       {@code (p + 1 + d) mod n}.</li>
 *   <li>RAID-6: md's left-symmetric for level 6: P on {@code p = (n-1) - (s mod n)}, Q on
 *       {@code (p + 1) mod n}, data chunk {@code d} on {@code (p + 2 + d) mod n}.</li>
 * </ul>
 *
 * <pre>
 *   RAID-5, 5 members:  m0  m1  m2  m3  m4      RAID-6, 5 members:  m0  m1  m2  m3  m4
 *   stripe 0:           D0  D1  D2  D3  P       stripe 0:           Q   D0  D1  D2  P
 *   stripe 1:           D5  D6  D7  P   D4      stripe 1:           D3  D4  D5  P   Q
 *   stripe 2:           D10 D11 P   D8  D9      stripe 2:           D7  D8  P   Q   D6
 * </pre>
 *
 * <p>Roles: the stripe code names a stripe's chunks by role, {@code 0..k-1} for data and
 * {@link #roleP()} = k, {@link #roleQ()} = k+1 for the syndromes, and asks {@link #memberOfRole}.
 * All methods are pure arithmetic on primitives and allocate nothing: the I/O path calls them
 * per chunk.
 */
public final class Layout {

    /** {@link #dataIndexOnMember} of the member holding P. */
    public static final int P = -1;
    /** {@link #dataIndexOnMember} of the member holding Q. */
    public static final int Q = -2;

    private final int level;
    private final int memberCount;
    private final int dataChunks;
    private final int parityChunks;
    private final boolean rotating;
    private final int chunkShift;
    private final int chunkMask;
    private final long stripeDataSize;
    private final long dataOffset;

    public Layout(ArrayGeometry geometry) {
        this.level = geometry.level();
        this.memberCount = geometry.memberCount();
        this.dataChunks = geometry.dataMembers();
        this.parityChunks = geometry.parityMembers();
        this.rotating = level == 5 || level == 6;
        this.chunkShift = Integer.numberOfTrailingZeros(geometry.chunkSize());
        this.chunkMask = geometry.chunkSize() - 1;
        this.stripeDataSize = geometry.stripeDataSize();
        this.dataOffset = geometry.dataOffset();
    }

    public int level() {
        return level;
    }

    /** Members in a stripe, data and parity. */
    public int memberCount() {
        return memberCount;
    }

    /** Data chunks in a stripe. */
    public int dataChunks() {
        return dataChunks;
    }

    /** Parity chunks in a stripe: 0, 1 (P) or 2 (P and Q). */
    public int parityChunks() {
        return parityChunks;
    }

    /** The role number of P in a stripe (valid when {@link #parityChunks()} ≥ 1). */
    public int roleP() {
        return dataChunks;
    }

    /** The role number of Q in a stripe (valid for RAID-6). */
    public int roleQ() {
        return dataChunks + 1;
    }

    /** Roles in a stripe: data chunks then parity chunks. */
    public int roles() {
        return dataChunks + parityChunks;
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

    /** Member holding the P chunk of a stripe, or -1 if the level has no parity. */
    public int parityMember(long stripe) {
        if (rotating) {
            return (memberCount - 1) - (int) (stripe % memberCount);
        }
        return level == 4 ? memberCount - 1 : -1;
    }

    /** Member holding the Q chunk of a stripe, or -1 unless RAID-6. */
    public int qMember(long stripe) {
        if (level != 6) {
            return -1;
        }
        int p = parityMember(stripe);
        return p == memberCount - 1 ? 0 : p + 1;
    }

    /** Member holding data chunk {@code dataIndex} of a stripe. */
    public int dataMember(long stripe, int dataIndex) {
        if (!rotating) {
            return dataIndex;
        }
        int m = parityMember(stripe) + parityChunks + dataIndex;
        return m >= memberCount ? m - memberCount : m;
    }

    /** Member holding role {@code role} (data index, {@link #roleP()} or {@link #roleQ()}) of a stripe. */
    public int memberOfRole(long stripe, int role) {
        if (role < dataChunks) {
            return dataMember(stripe, role);
        }
        return role == dataChunks ? parityMember(stripe) : qMember(stripe);
    }

    /**
     * The data index that member {@code member} holds in a stripe, or {@link #P} / {@link #Q}. A
     * reconstructing read or rebuild needs this inverse. For RAID-1 every member holds index 0.
     */
    public int dataIndexOnMember(long stripe, int member) {
        if (level == 1) {
            return 0;
        }
        if (!rotating) {
            return member < dataChunks ? member : P;
        }
        int p = parityMember(stripe);
        int d = member - p - parityChunks;
        while (d < 0) { // at most twice: p + parityChunks < 2n
            d += memberCount;
        }
        if (d < dataChunks) {
            return d;
        }
        // Counting on from the first data chunk, P comes right after the last, then Q.
        return d == dataChunks ? P : Q;
    }

    /** The role member {@code member} plays in a stripe: its data index, {@link #roleP()} or {@link #roleQ()}. */
    public int roleOfMember(long stripe, int member) {
        int d = dataIndexOnMember(stripe, member);
        return d >= 0 ? d : d == P ? roleP() : roleQ();
    }

    /** Byte offset on a member of column {@code offsetInChunk} of a stripe (any chunk of it). */
    public long memberOffset(long stripe, int offsetInChunk) {
        return dataOffset + (stripe << chunkShift) + offsetInChunk;
    }

    /** Member holding a volume offset (for RAID-1, member 0's copy). */
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
