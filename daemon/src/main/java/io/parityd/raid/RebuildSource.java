package io.parityd.raid;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * How a level produces a slot's chunks from the other members, a batch of stripes at a time,
 * for {@link Rebuilder}. Striped levels reconstruct from data and parity; RAID-1 copies a mirror.
 */
interface RebuildSource {

    /**
     * Fills {@code target[0, (to-from)·chunk)} with {@code slot}'s chunks of stripes
     * {@code [from, to)}, reading the other members in large sequential requests. The caller holds
     * the locks of those stripes.
     *
     * @return false if a member read failed (that slot is now faulty); the caller tries again
     * @throws IOException if the members left cannot provide the data
     */
    boolean fill(int slot, long from, long to, ByteBuffer target) throws IOException;
}
