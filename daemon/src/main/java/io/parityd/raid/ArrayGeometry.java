package io.parityd.raid;

import java.util.Objects;
import java.util.UUID;

/**
 * The fixed shape of an array, as every member's superblock records it: which array, what
 * level, how data is cut into chunks and where on each member it starts.
 *
 * @param arrayUuid      identity of the array; members of another array carry another
 * @param name           the volume name, which is also the NBD export name
 * @param level          RAID level (5 for now; 0, 1, 4, 6 arrive with issue 3)
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

    public ArrayGeometry {
        Objects.requireNonNull(arrayUuid, "arrayUuid");
        Objects.requireNonNull(name, "name");
        if (chunkSize < MIN_CHUNK || Integer.bitCount(chunkSize) != 1) {
            throw new IllegalArgumentException("chunk size must be a power of two >= 4 KiB: " + chunkSize);
        }
        if (memberCount < 2 || memberCount > MAX_MEMBERS) {
            throw new IllegalArgumentException("member count out of range: " + memberCount);
        }
        if (dataOffset < 0 || dataOffset % 4096 != 0) {
            throw new IllegalArgumentException("data offset must be 4 KiB aligned: " + dataOffset);
        }
        if (memberDataSize < chunkSize || memberDataSize % chunkSize != 0) {
            throw new IllegalArgumentException("member data size must be a positive multiple of the chunk: " + memberDataSize);
        }
    }

    /** Members that hold data in each stripe (RAID-5: all but the one holding parity). */
    public int dataMembers() {
        return memberCount - 1;
    }

    /** Volume bytes in one stripe: one chunk on each data member. */
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
