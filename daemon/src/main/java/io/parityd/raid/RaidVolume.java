package io.parityd.raid;

import io.parityd.block.BlockDevice;
import java.io.IOException;
import java.util.List;

/**
 * A RAID array as one {@link BlockDevice}, of any level, healthy or degraded, with the
 * operations an operator drives: failing a member, rebuilding a slot onto a new device, and
 * checking redundancy (DESIGN.md "RAID").
 *
 * <p>Failures: an {@link IOException} from a member (including a failed flush) marks that slot
 * faulty ({@link SlotListener#slotFailed}) and the request carries on from the remaining members;
 * the caller sees no error while the level's redundancy covers the failed slots. A request that
 * needs data no surviving member can provide fails with an {@link IOException} naming the
 * stripe and the failed slots; requests that do not touch such stripes still succeed.
 */
public interface RaidVolume extends BlockDevice {

    ArrayGeometry geometry();

    /** Every slot, in slot order. */
    List<SlotView> slots();

    /** Slots that are FAULTY or MISSING (a REBUILDING slot counts as degraded, not failed). */
    int failedSlots();

    /** How many slots the level can lose and still serve every stripe: 0, 1, 2, or n−1 for RAID-1. */
    int redundancy();

    /** Marks {@code slot} faulty as if its device had failed (an operator's drill); idempotent. */
    void fail(int slot, IOException why);

    /**
     * Puts {@code device} into the FAULTY or MISSING {@code slot} and rebuilds it in the background
     * from stripe {@code fromStripe} (0 for a new device; a persisted position to resume), writing
     * every stripe's chunk for that slot from the other members. The slot is REBUILDING until done:
     * client writes below the rebuild position go to it, reads use it there. Progress and the end go
     * to the {@link SlotListener}. Returns at once.
     *
     * @throws IllegalStateException if the slot is not FAULTY or MISSING, or a rebuild already runs
     */
    void rebuild(int slot, BlockDevice device, long fromStripe);

    /**
     * Caps every rebuild, running or future, at {@code bytesPerSecond} written to the new device
     * (md's speed_limit_max), so a rebuild leaves the disks to clients; 0 lifts the cap.
     */
    void rebuildRateLimit(long bytesPerSecond);

    /** Stripes rebuilt so far in {@code slot}, or -1 if no rebuild runs there. */
    long rebuildPosition(int slot);

    /**
     * Checks redundancy over stripes {@code [fromStripe, toStripe)}: parity (P, and Q for RAID-6)
     * against the data, or the copies of RAID-1 against each other. With {@code repair}, rewrites
     * what does not match (parity from data; mirrors from the first active copy). Locks each
     * stripe while it checks it, so it runs while clients write. Skips nothing silently: a stripe
     * that cannot be checked (too few members) is counted as unchecked in the report.
     */
    ScrubReport scrub(long fromStripe, long toStripe, boolean repair, int maxReported, ParityScrubber.Progress progress)
            throws IOException;

    /**
     * Starts the background work: the rebuilds of slots the volume was opened with as REBUILDING,
     * from their persisted position ({@link RaidVolumes#openHeld}), and the watch that fails a
     * member whose file is deleted while it serves ({@link io.parityd.block.BlockDevice#lost}),
     * every 2 s. After an unclean stop, call it only once the journal is replayed: a rebuild
     * computes the new member's chunks from parity, which is trustworthy only then.
     */
    void resumeRebuilds();

    /**
     * From now on, every partial write of a stripe whose data a crash would lose hands
     * {@code log} a {@link Preimage} first (the write journal's way of closing the write hole of
     * degraded stripes). Levels without parity never call it.
     */
    void logPreimagesTo(PreimageLog log);

    /**
     * From now on, while a slot is down, every change marks its region in {@code intent} first
     * ({@link WriteIntent}), so a member that comes back needs only those regions resynced.
     */
    void recordWritesWhileDegraded(WriteIntent intent);

    /** The write intent attached, or one that records nothing. */
    WriteIntent writeIntent();

    /**
     * Puts {@code device}, a former member of a faulty or missing slot whose missed writes the
     * write intent covers ({@link WriteIntent#covers}), back as REBUILDING, and resyncs only the
     * regions the intent marks, in the background.
     */
    void reAdd(int slot, BlockDevice device);

    /**
     * Recovery: recomputes the parity of {@code preimage}'s stripe and columns from the data the
     * members serve now and, for data chunks no member serves, the preimage ({@link Preimage}).
     *
     * @return false if it could not: a data chunk no member serves is not in the preimage, or a
     *         member failed meanwhile
     * @throws IOException if the preimage does not fit this array
     */
    boolean restoreParity(Preimage preimage) throws IOException;

    /**
     * Stops background rebuilds (their position stays persisted) and the member watch, and starts
     * no new one; the member
     * devices stay open, so the owner can still flush them and mark the array clean.
     */
    void stopRebuilds();

    /** Stops background rebuilds (their position stays persisted) and closes the member devices. */
    @Override
    void close() throws IOException;
}
