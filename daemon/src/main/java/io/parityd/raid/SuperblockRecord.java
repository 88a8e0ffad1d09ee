package io.parityd.raid;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * The parsed contents of one member's superblock: the array's shape, who this member is, and
 * what the array knows about every slot. Immutable; an update is a new record with a higher
 * {@link #generation()}, written by {@link Superblock#write}. The byte layout is in
 * {@link Superblock}.
 *
 * @param generation bumped on every write; of two valid copies, or two members' records, the
 *                   higher one is the newer truth
 * @param geometry   the array's shape, identical on every member
 * @param memberUuid this member's identity
 * @param slot       this member's position in the array, {@code [0, memberCount)}
 * @param epoch      fencing epoch (DESIGN.md, "Failover and fencing"); starts at 1, a controller
 *                   that sees a higher one never writes again
 * @param created    when the array was created (millisecond precision, as stored)
 * @param updated    when this record was written (millisecond precision, as stored)
 * @param flags      {@link #FLAG_CLEAN}, {@link #FLAG_JOURNALED}, {@link #FLAG_COMMAND_JOURNAL},
 *                   {@link #FLAG_CREATING} and bits later formats may add
 * @param journalUuid the write journal the array's last run wrote through; present exactly when
 *                   {@link #FLAG_JOURNALED} is set, never the all-zero UUID (the format's "none")
 * @param members    the member table, one entry per slot: at least {@code memberCount} entries
 *                   (spares may follow), at most {@link ArrayGeometry#MAX_MEMBERS}
 */
public record SuperblockRecord(long generation, ArrayGeometry geometry, UUID memberUuid, int slot, long epoch,
                               Instant created, Instant updated, int flags, Optional<UUID> journalUuid,
                               List<MemberEntry> members) {

    /** Set while no write is in flight: parity was consistent when the array was last stopped. */
    public static final int FLAG_CLEAN = 1;

    /**
     * Set while the array runs with a write journal: after an unclean stop, that journal (named by
     * {@link #journalUuid()}) holds writes the members may lack, so it must be replayed before the
     * array serves, and the array must not start without it.
     */
    public static final int FLAG_JOURNALED = 1 << 1;

    /**
     * Set with {@link #FLAG_JOURNALED} when that journal holds each write's command, not its data
     * ({@code --journal commands}): what {@code examine} shows as the journal's mode.
     */
    public static final int FLAG_COMMAND_JOURNAL = 1 << 2;

    /**
     * Set on the superblocks {@code create} writes in its first pass, before every member holds
     * one; its second pass rewrites each member without it (same generation, 1; see {@link #AGE}). An array whose newest
     * superblock still has it was never completely created: {@code serve} refuses it and
     * {@code create} may overwrite it without {@code --force}, since it holds no data yet.
     */
    public static final int FLAG_CREATING = 1 << 3;

    /**
     * Oldest to newest: by generation, and on a tie the final record after a CREATING one (create
     * writes generation 1 twice, CREATING first), so a member its second pass reached wins.
     */
    public static final java.util.Comparator<SuperblockRecord> AGE = java.util.Comparator
            .comparingLong(SuperblockRecord::generation).thenComparing(r -> !r.creating());

    /** What the superblock stores for "no journal": a journal is never given this UUID. */
    static final UUID NO_JOURNAL = new UUID(0, 0);

    /** Longest array name in UTF-8 bytes, as the superblock stores it. */
    public static final int MAX_NAME_BYTES = 64;

    public SuperblockRecord {
        Objects.requireNonNull(geometry, "geometry");
        Objects.requireNonNull(memberUuid, "memberUuid");
        created = Objects.requireNonNull(created, "created").truncatedTo(ChronoUnit.MILLIS);
        updated = Objects.requireNonNull(updated, "updated").truncatedTo(ChronoUnit.MILLIS);
        Objects.requireNonNull(journalUuid, "journalUuid");
        members = List.copyOf(members);
        requireJournalAgrees(flags, journalUuid);
        require(generation >= 1, "generation must be at least 1: " + generation);
        require(epoch >= 1, "epoch must be at least 1: " + epoch);
        int nameBytes = geometry.name().getBytes(StandardCharsets.UTF_8).length;
        require(nameBytes >= 1 && nameBytes <= MAX_NAME_BYTES, "array name must be 1-64 UTF-8 bytes: " + nameBytes);
        require(members.size() >= geometry.memberCount() && members.size() <= ArrayGeometry.MAX_MEMBERS,
                "member table has " + members.size() + " entries for " + geometry.memberCount() + " members");
        require(slot >= 0 && slot < members.size(), "slot " + slot + " outside the member table [0, " + members.size() + ")");
        for (int row = geometry.memberCount(); row < members.size(); row++) {
            require(members.get(row).state() == MemberState.SPARE,
                    "member table row " + row + " is past the " + geometry.memberCount() + " slots, so it must be a spare");
        }
        require(members.get(slot).memberUuid().equals(memberUuid),
                "member table slot " + slot + " names " + members.get(slot).memberUuid() + ", not this member " + memberUuid);
        require(geometry.dataOffset() >= Superblock.RESERVED_BYTES,
                "data offset " + geometry.dataOffset() + " overlaps the superblock copies");
    }

    /** A record whose array ran without a write journal: {@code journalUuid} empty. */
    public SuperblockRecord(long generation, ArrayGeometry geometry, UUID memberUuid, int slot, long epoch,
                            Instant created, Instant updated, int flags, List<MemberEntry> members) {
        this(generation, geometry, memberUuid, slot, epoch, created, updated, flags, Optional.empty(), members);
    }

    /** True if the array was stopped with parity consistent. */
    public boolean clean() {
        return (flags & FLAG_CLEAN) != 0;
    }

    /** This record with the CLEAN flag set or cleared; other fields unchanged. */
    public SuperblockRecord withClean(boolean clean) {
        int newFlags = clean ? flags | FLAG_CLEAN : flags & ~FLAG_CLEAN;
        return new SuperblockRecord(generation, geometry, memberUuid, slot, epoch, created, updated, newFlags,
                journalUuid, members);
    }

    /** This record naming {@code journal} (JOURNALED set), or no journal (cleared) if empty; other fields unchanged. */
    public SuperblockRecord withJournal(Optional<UUID> journal) {
        return withJournal(journal, false);
    }

    /**
     * This record naming {@code journal}, a command journal if {@code commands} (JOURNALED and
     * COMMAND_JOURNAL set), or no journal (both cleared) if empty; other fields unchanged.
     */
    public SuperblockRecord withJournal(Optional<UUID> journal, boolean commands) {
        int newFlags = flags & ~(FLAG_JOURNALED | FLAG_COMMAND_JOURNAL);
        if (journal.isPresent()) {
            newFlags |= FLAG_JOURNALED | (commands ? FLAG_COMMAND_JOURNAL : 0);
        }
        return new SuperblockRecord(generation, geometry, memberUuid, slot, epoch, created, updated, newFlags,
                journal, members);
    }

    /** True if {@code create} wrote this record and had not yet stamped every member (see {@link #FLAG_CREATING}). */
    public boolean creating() {
        return (flags & FLAG_CREATING) != 0;
    }

    /** This record with the CREATING flag set or cleared; other fields unchanged. */
    public SuperblockRecord withCreating(boolean creating) {
        int newFlags = creating ? flags | FLAG_CREATING : flags & ~FLAG_CREATING;
        return new SuperblockRecord(generation, geometry, memberUuid, slot, epoch, created, updated, newFlags,
                journalUuid, members);
    }

    /** Whether the journal this record names holds commands only (see {@link #FLAG_COMMAND_JOURNAL}). */
    public boolean commandJournal() {
        return (flags & FLAG_COMMAND_JOURNAL) != 0;
    }

    /** This record at fencing epoch {@code newEpoch}; other fields unchanged. */
    public SuperblockRecord withEpoch(long newEpoch) {
        return new SuperblockRecord(generation, geometry, memberUuid, slot, newEpoch, created, updated, flags,
                journalUuid, members);
    }

    /** This record as generation {@code newGeneration}, written at {@code now}. */
    public SuperblockRecord withGeneration(long newGeneration, Instant now) {
        return new SuperblockRecord(newGeneration, geometry, memberUuid, slot, epoch, created, now, flags,
                journalUuid, members);
    }

    /**
     * The same array-wide record as another member would hold it: same table, geometry and
     * generation, that member's identity and row (a slot, or a spare's row past the slots).
     */
    public SuperblockRecord forSlot(int otherSlot) {
        require(otherSlot >= 0 && otherSlot < members.size(), "no row " + otherSlot + " in the member table");
        return new SuperblockRecord(generation, geometry, members.get(otherSlot).memberUuid(), otherSlot, epoch,
                created, updated, flags, journalUuid, members);
    }

    /** This record, for the same row, with another member table (the caller bumps the generation on write). */
    public SuperblockRecord withMembers(List<MemberEntry> table) {
        require(slot < table.size(), "row " + slot + " is not in the new member table");
        return new SuperblockRecord(generation, geometry, table.get(slot).memberUuid(), slot, epoch, created, updated,
                flags, journalUuid, table);
    }

    /** True if this member is a hot spare rather than one of the array's slots. */
    public boolean isSpare() {
        return slot >= geometry.memberCount();
    }

    /** The flag and the UUID are written together; one without the other is a copy that cannot be trusted. */
    private static void requireJournalAgrees(int flags, Optional<UUID> journalUuid) {
        boolean flagged = (flags & FLAG_JOURNALED) != 0;
        require(!journalUuid.equals(Optional.of(NO_JOURNAL)), "the journal UUID is all zero, which means no journal");
        require(!flagged || journalUuid.isPresent(), "flags say JOURNALED but the journal UUID is zero");
        require(flagged || (flags & FLAG_COMMAND_JOURNAL) == 0, "flags say COMMAND_JOURNAL but not JOURNALED");
        require(flagged || journalUuid.isEmpty(), "journal UUID " + journalUuid.map(UUID::toString).orElse("")
                + " is set but flags do not say JOURNALED");
    }

    private static void require(boolean condition, String problem) {
        if (!condition) {
            throw new IllegalArgumentException(problem);
        }
    }
}
