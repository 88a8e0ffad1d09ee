package io.parityd.raid;

import java.util.Objects;
import java.util.UUID;

/**
 * The fixed shape of an array, as every member's superblock records it: which array, what
 * level, how data is cut into chunks and where on each member it starts.
 *
 * @param arrayUuid      identity of the array; members of another array carry another
 * @param name           the volume name, which is also the NBD export name
 * @param level          RAID level: 0 (striping), 1 (mirroring), 4 (dedicated parity), 5 and 6 (md's
 *                       left-symmetric rotation, with P, and with P and Q)
 * @param chunkSize      bytes per chunk, a power of two of at least 4 KiB
 * @param memberCount    members holding data or parity (spares not counted)
 * @param dataOffset     byte offset on each member where chunk 0 starts; below it lives metadata
 * @param memberDataSize bytes of each member used for chunks, a multiple of {@code chunkSize}
 */
public record ArrayGeometry(UUID arrayUuid, String name, int level, int chunkSize, int memberCount,
                            long dataOffset, long memberDataSize) {

    /** Smallest chunk we accept: the page size, below which every write is a read-modify-write. */
    public static final int MIN_CHUNK = 4096;

    /** Most members one array may have; bounded by the superblock's member table. */
    public static final int MAX_MEMBERS = 64;

    /**
     * Members needed per level: two to stripe or mirror at all; RAID-4/5 need two data chunks
     * beside parity (with one, "parity" is a mirror and md calls that RAID-1); RAID-6 likewise
     * two beside P and Q.
     */
    public static int minMembers(int level) {
        return switch (level) {
            case 0, 1 -> 2;
            case 4, 5 -> 3;
            case 6 -> 4;
            default -> throw new IllegalArgumentException("RAID level " + level + " is not one parityd knows (0, 1, 4, 5, 6)");
        };
    }

    public ArrayGeometry {
        Objects.requireNonNull(arrayUuid, "arrayUuid");
        Objects.requireNonNull(name, "name");
        if (chunkSize < MIN_CHUNK || Integer.bitCount(chunkSize) != 1) {
            throw new IllegalArgumentException("chunk size must be a power of two >= 4 KiB: " + chunkSize);
        }
        if (memberCount < minMembers(level) || memberCount > MAX_MEMBERS) {
            throw new IllegalArgumentException("RAID-" + level + " needs " + minMembers(level) + " to " + MAX_MEMBERS
                    + " members, not " + memberCount);
        }
        if (dataOffset < 0 || dataOffset % 4096 != 0) {
            throw new IllegalArgumentException("data offset must be 4 KiB aligned: " + dataOffset);
        }
        if (memberDataSize < chunkSize || memberDataSize % chunkSize != 0) {
            throw new IllegalArgumentException("member data size must be a positive multiple of the chunk: " + memberDataSize);
        }
    }

    /**
     * Data chunks in each stripe: every member for RAID-0, one (held by every member) for RAID-1,
     * all but P for RAID-4/5, all but P and Q for RAID-6.
     */
    public int dataMembers() {
        return switch (level) {
            case 0 -> memberCount;
            case 1 -> 1;
            case 6 -> memberCount - 2;
            default -> memberCount - 1;
        };
    }

    /** Parity chunks in each stripe: P for RAID-4/5, P and Q for RAID-6, none for RAID-0/1. */
    public int parityMembers() {
        return switch (level) {
            case 4, 5 -> 1;
            case 6 -> 2;
            default -> 0;
        };
    }

    /** How many members the array can lose and still serve every byte: 0, n−1, 1, 1, 2. */
    public int redundancy() {
        return switch (level) {
            case 0 -> 0;
            case 1 -> memberCount - 1;
            case 6 -> 2;
            default -> 1;
        };
    }

    /** Volume bytes in one stripe: one chunk per data chunk (RAID-1: one chunk, copied on every member). */
    public long stripeDataSize() {
        return (long) chunkSize * dataMembers();
    }

    /** Stripes in the array: one per chunk-sized row across the members. */
    public long stripes() {
        return memberDataSize / chunkSize;
    }

    /** Bytes the volume exports. */
    public long volumeSize() {
        return stripes() * stripeDataSize();
    }
}
