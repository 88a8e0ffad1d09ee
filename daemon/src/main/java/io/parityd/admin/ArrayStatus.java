package io.parityd.admin;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A running array as {@code parityd status} shows it (and as its JSON form carries it).
 *
 * @param name     volume name
 * @param uuid     array UUID
 * @param level    RAID level
 * @param chunk    chunk size in bytes
 * @param size     exported bytes
 * @param state    {@code clean} (all members active), {@code degraded} (some failed, data intact),
 *                 {@code failed} (more failed than the level carries: some stripes unreadable)
 * @param members  every slot, in slot order
 * @param spares   hot spares standing by
 * @param tasks    running background work: rebuild, resync or scrub (empty when idle)
 * @param export   where clients connect, e.g. {@code nbd://127.0.0.1:10809/vol0}
 * @param lastScrub the outcome of the last check or repair that ended since the daemon started,
 *                 or null if none has: how {@code parityd scrub} learns the final mismatch count
 *                 of a scrub that ended between two of its polls
 * @param journal  the write journal and what its replay at this start did; null under {@code --journal off}
 * @param ha       this process's place in an HA pair; null in single-process mode
 * @param memory   the memory the NBD server's requests share; null where no NBD server runs
 */
public record ArrayStatus(String name, UUID uuid, int level, int chunk, long size, String state,
                          List<MemberStatus> members, List<String> spares, List<TaskStatus> tasks, String export,
                          ScrubResult lastScrub, JournalStatus journal, HaStatus ha, RequestMemory memory) {

    public ArrayStatus {
        members = List.copyOf(members);
        spares = List.copyOf(spares);
        tasks = List.copyOf(tasks);
    }

    /** Without the NBD server's memory. */
    public ArrayStatus(String name, UUID uuid, int level, int chunk, long size, String state,
                       List<MemberStatus> members, List<String> spares, List<TaskStatus> tasks, String export,
                       ScrubResult lastScrub, JournalStatus journal, HaStatus ha) {
        this(name, uuid, level, chunk, size, state, members, spares, tasks, export, lastScrub, journal, ha, null);
    }

    /**
     * The memory for requests in flight that every client of this process shares (issue 14):
     * write payloads and read replies together.
     *
     * @param capacity bytes they may hold at once
     * @param used     bytes held now
     * @param waiting  connections that stopped reading until memory comes back
     */
    public record RequestMemory(long capacity, long used, long waiting) {
    }

    /** This status with the NBD server's request memory. */
    public ArrayStatus withMemory(RequestMemory newMemory) {
        return new ArrayStatus(name, uuid, level, chunk, size, state, members, spares, tasks, export, lastScrub,
                journal, ha, newMemory);
    }

    /** A status of single-process mode. */
    public ArrayStatus(String name, UUID uuid, int level, int chunk, long size, String state,
                       List<MemberStatus> members, List<String> spares, List<TaskStatus> tasks, String export,
                       ScrubResult lastScrub, JournalStatus journal) {
        this(name, uuid, level, chunk, size, state, members, spares, tasks, export, lastScrub, journal, null);
    }

    /** This status with {@code ha} as its HA section. */
    public ArrayStatus withHa(HaStatus newHa) {
        return new ArrayStatus(name, uuid, level, chunk, size, state, members, spares, tasks, export, lastScrub,
                journal, newHa, memory);
    }

    /**
     * A process of an HA pair (DESIGN.md "Failover and fencing").
     *
     * @param node             "controller a", or "front"
     * @param role             the controller's role (STARTING, RESYNCING, STANDBY, PRIMARY, FENCED); "front"
     * @param epoch            the epoch it acts in
     * @param inSyncEpoch      the epoch its journal is in sync at (controllers; 0 for the front)
     * @param checkpointMicros the primary's checkpoint round trip: from a write's arrival to the
     *                         standby's acknowledgement of it (smoothed); -1 if unknown or not primary
     * @param failovers        promotions the front made since it started (front); 0 otherwise
     * @param outstanding      requests the front holds unanswered (front); 0 otherwise
     * @param peers            the other processes as this one sees them
     */
    public record HaStatus(String node, String role, long epoch, long inSyncEpoch, long checkpointMicros,
                           long failovers, long outstanding, List<PeerStatus> peers) {
        public HaStatus {
            peers = List.copyOf(peers);
        }
    }

    /**
     * Another process of the pair.
     *
     * @param id               "a", "b", or "front"
     * @param address          where it is reached, or "" if it connected to this one
     * @param state            e.g. PRIMARY, STANDBY, SYNCING, UP, DOWN (the front's view), or connected/none
     * @param epoch            its epoch as last heard, -1 if unknown
     * @param roundTripMicros  the last heartbeat round trip, -1 if unknown
     */
    public record PeerStatus(String id, String address, String state, long epoch, long roundTripMicros) {
    }

    /** A status of an array without a journal. */
    public ArrayStatus(String name, UUID uuid, int level, int chunk, long size, String state,
                       List<MemberStatus> members, List<String> spares, List<TaskStatus> tasks, String export,
                       ScrubResult lastScrub) {
        this(name, uuid, level, chunk, size, state, members, spares, tasks, export, lastScrub, null);
    }

    /** A status without a scrub outcome (no check or repair has ended since the daemon started). */
    public ArrayStatus(String name, UUID uuid, int level, int chunk, long size, String state,
                       List<MemberStatus> members, List<String> spares, List<TaskStatus> tasks, String export) {
        this(name, uuid, level, chunk, size, state, members, spares, tasks, export, null);
    }

    /**
     * One slot.
     *
     * @param slot   position in the array
     * @param path   the member's path (null if missing)
     * @param state  {@code active}, {@code faulty}, {@code missing} or {@code rebuilding}
     * @param reason why it is faulty or missing, for the operator (null otherwise)
     */
    public record MemberStatus(int slot, String path, String state, String reason) {
    }

    /**
     * Background work in progress.
     *
     * @param kind           {@code rebuild}, {@code resync}, {@code check} or {@code repair}
     * @param target         what it works on: the slot's path for a rebuild, the array otherwise
     * @param done           stripes done
     * @param total          stripes in all
     * @param bytesPerSecond recent rate, in volume bytes per second
     * @param etaSeconds     estimated seconds left, or -1 if unknown
     * @param mismatches     parity mismatches found so far (check and repair)
     */
    public record TaskStatus(String kind, String target, long done, long total, double bytesPerSecond,
                             long etaSeconds, long mismatches) {
    }

    /**
     * A check or repair that has ended, completely or not.
     *
     * @param kind       {@code check} or {@code repair}
     * @param done       stripes checked
     * @param total      stripes in all; fewer done means it stopped early (e.g. the array failed)
     * @param mismatches parity mismatches found
     * @param repaired   of those, how many were rewritten (0 for a check)
     * @param finished   when it ended
     */
    public record ScrubResult(String kind, long done, long total, long mismatches, long repaired, Instant finished) {

        /** Whether every stripe was checked. */
        public boolean complete() {
            return done == total;
        }
    }

    /**
     * The write journal.
     *
     * @param path             the journal file
     * @param nonVolatile      declared non-volatile ({@code --nvram-nonvolatile}): no sync before member writes
     * @param capacity         bytes of write data it holds at most
     * @param usedBytes        bytes held now
     * @param records          records held now
     * @param waiting          requests waiting for room (backpressure in effect when above 0)
     * @param syncs            group-commit syncs since start
     * @param replayedRequests requests the replay at this start redid
     * @param droppedRecords   records the replay dropped (never synced, so never promised by a FLUSH or FUA)
     * @param mode             what the journal holds: commands or data
     * @param marks            dirty-region marks held (commands)
     * @param writes           writes through the journal since the start
     * @param writesWaited     of those, the ones whose member writes waited for a journal sync
     * @param stripesResynced  stripes the replay resynced
     * @param recoveryMillis   how long the replay took
     */
    public record JournalStatus(String path, boolean nonVolatile, long capacity, long usedBytes, long records,
                                long waiting, long syncs, long replayedRequests, long droppedRecords,
                                long stripesResynced, long recoveryMillis, String mode, long marks, long writes,
                                long writesWaited) {

        /** A data journal's status, as before modes. */
        public JournalStatus(String path, boolean nonVolatile, long capacity, long usedBytes, long records,
                             long waiting, long syncs, long replayedRequests, long droppedRecords,
                             long stripesResynced, long recoveryMillis) {
            this(path, nonVolatile, capacity, usedBytes, records, waiting, syncs, replayedRequests, droppedRecords,
                    stripesResynced, recoveryMillis, "data", 0, 0, 0);
        }
    }
}
