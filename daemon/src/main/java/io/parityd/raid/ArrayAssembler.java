package io.parityd.raid;

import io.parityd.block.BlockDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;

import io.parityd.member.MemberInUseException;
import io.parityd.member.Members;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens an array from its member files (and spares), given in any order, and checks that they
 * belong together (DESIGN.md, "RAID": {@code serve} refuses members that disagree). It only
 * reads: a refusal leaves every member as it was and every opened member closed.
 *
 * <p><b>Degraded start.</b> A member that does not exist, cannot be opened or read, or whose
 * superblock is damaged is <em>absent</em>; so is every slot the newest member table marks
 * faulty or missing (its data is stale even if the file is back). The array starts without them
 * as long as the level can carry it (RAID-1: all but one; RAID-4/5: one; RAID-6: two; RAID-0:
 * none) and it was shut down cleanly; a dirty array with a member absent is refused unless forced,
 * because parity of the stripes written at the crash may be stale and would rebuild wrong data
 * (md refuses the same "dirty degraded" start). One exception ({@link DirtyDegraded#JOURNAL_REPLAYS}):
 * a journaled array whose absent members were all recorded as lost before the crash starts,
 * because every write to a degraded stripe journaled a {@link Preimage} of what it could destroy,
 * and the replay restores from it. A member that vanished while the array was down (recorded
 * ACTIVE, now absent) still needs {@code --force}: no preimage covers the writes made with it. A file with no parityd superblock at all is
 * refused rather than taken as absent: it is more likely a wrong path than a failed disk.
 *
 * <p><b>Generations.</b> Superblocks are written member by member, so a crash between two
 * members leaves them one generation apart. Members that disagree <em>only</em> in generation
 * (and the table, CLEAN flag, journal identity and update time that came with it) are accepted:
 * the highest generation is the array's truth, and the next update rewrites it to every member
 * with a generation above all of them. Any other disagreement (geometry, array, slot) is refused.
 * For the journal identity that is safe because {@link AssembledArray} flushes every member before
 * a superblock stops naming a journal, so an older member's journal holds nothing they lack.
 */
public final class ArrayAssembler {

    private static final Logger log = LoggerFactory.getLogger(ArrayAssembler.class);

    private final Clock clock;

    /** @param clock stamps the update time of superblocks the assembled array writes */
    public ArrayAssembler(Clock clock) {
        this.clock = clock;
    }

    /** One given member, open, with its superblock. */
    record Opened(Path path, BlockDevice member, SuperblockRecord record) {
    }

    /** One given path that could not be used, and why, for the operator. */
    record Absent(Path path, String reason) {
    }

    /** What to do with an array that was not shut down cleanly and has members absent. */
    public enum DirtyDegraded {
        /** Refuse it (nothing will redo the writes under way at the crash). */
        REFUSE,
        /**
         * The caller replays the array's journal: start if the array is journaled and every absent
         * member was recorded lost before the crash; refuse otherwise.
         */
        JOURNAL_REPLAYS,
        /**
         * Start it: the operator accepts that stripes written at the crash may rebuild wrong
         * ({@code --force}); and if more slots are lost than the level carries, trust again the
         * given members that dropped out last, just enough to start ({@link ForcedAssembly}).
         */
        FORCE
    }


    /** As {@link #assemble(List, DirtyDegraded)}, refusing a dirty degraded start. */
    public AssembledArray assemble(List<Path> memberPaths) throws ArrayException {
        return assemble(memberPaths, DirtyDegraded.REFUSE);
    }

    /** As {@link #assemble(List, DirtyDegraded)}: {@code true} forces, {@code false} refuses. */
    public AssembledArray assemble(List<Path> memberPaths, boolean forceDirtyDegraded) throws ArrayException {
        return assemble(memberPaths, forceDirtyDegraded ? DirtyDegraded.FORCE : DirtyDegraded.REFUSE);
    }

    /**
     * Opens and checks the members and spares; the returned array owns them and closes them.
     *
     * @param dirtyDegraded whether to start an array that was not shut down cleanly although
     *                      members are absent
     * @throws ArrayException naming the member and what to do
     */
    public AssembledArray assemble(List<Path> memberPaths, DirtyDegraded dirtyDegraded) throws ArrayException {
        if (memberPaths.isEmpty()) {
            throw new ArrayException("no members given", "list the array's member files");
        }
        // Before any open: a second read-write open of one file would find it locked by the first.
        checkDistinct(memberPaths);
        List<Opened> opened = new ArrayList<>();
        List<Absent> absent = new ArrayList<>();
        List<Path> blank = new ArrayList<>();
        try {
            for (Path path : memberPaths) {
                probe(path, opened, absent, blank);
            }
            Map<Path, SuperblockRecord> records = new LinkedHashMap<>();
            opened.forEach(o -> records.put(o.path(), o.record()));
            InterruptedCreate.refuse(records);
            LeaveOut.refuseBlank(blank, opened, memberPaths);
            if (opened.isEmpty()) {
                throw new ArrayException("none of the given members can be read: " + describe(absent),
                        "check the paths; an array needs its members' superblocks to start");
            }
            return check(opened, absent, dirtyDegraded, memberPaths);
        } catch (ArrayException | RuntimeException e) {
            for (int i = opened.size() - 1; i >= 0; i--) {
                try {
                    opened.get(i).member().close();
                } catch (IOException closing) {
                    e.addSuppressed(closing);
                }
            }
            throw e;
        }
    }

    /**
     * Opens one path: usable members go to {@code opened}, unusable ones (with the reason) to
     * {@code absent}, files without any superblock to {@code blank} (refused once the others say
     * which slot such a file may have been).
     */
    private static void probe(Path path, List<Opened> opened, List<Absent> absent, List<Path> blank)
            throws ArrayException {
        BlockDevice member;
        try {
            member = openMember(path);
        } catch (NoSuchFileException e) {
            absent.add(new Absent(path, "does not exist"));
            return;
        } catch (MemberInUseException e) {
            // Another process writes it: never start without it, as if it had failed (two writers).
            throw new ArrayException(e.getMessage(), "stop the other process first; parityd never serves an array"
                    + " whose member someone else is writing", e);
        } catch (IOException e) {
            absent.add(new Absent(path, "cannot be opened: " + ArrayCreator.reason(e)));
            return;
        }
        try {
            SuperblockRead read = Superblock.read(member);
            switch (read.status()) {
                case OK -> opened.add(new Opened(path, member, read.record().orElseThrow()));
                case DAMAGED -> {
                    absent.add(new Absent(path, "has a damaged superblock (" + read.detail() + ")"));
                    member.close();
                }
                case MISSING -> {
                    blank.add(path);
                    member.close();
                }
                default -> throw new ArrayException(path + " has a superblock of format " + read.formatVersion()
                        + ", newer than this parityd understands (" + Superblock.VERSION + ")",
                        "use the parityd version that wrote it");
            }
        } catch (IOException e) {
            absent.add(new Absent(path, "its superblock cannot be read: " + ArrayCreator.reason(e)));
            closeQuietly(member);
        } catch (ArrayException e) {
            closeQuietly(member);
            throw e;
        }
    }

    static Opened newest(List<Opened> opened) {
        return opened.stream().max(Comparator.comparing(Opened::record, SuperblockRecord.AGE)).orElseThrow();
    }

    /** The one place that decides how a member path is opened: a regular file or a raw block device. */
    static BlockDevice openMember(Path path) throws IOException {
        return Members.open(path, false);
    }

    private static void closeQuietly(BlockDevice member) {
        try {
            member.close();
        } catch (IOException e) {
            log.debug("closing {} failed: {}", member.describe(), e.toString());
        }
    }

    private static String describe(List<Absent> absent) {
        List<String> parts = new ArrayList<>();
        for (Absent a : absent) {
            parts.add(a.path() + " " + a.reason());
        }
        return String.join("; ", parts);
    }

    /** Refuses one file given twice under two spellings (symlink, hard link, {@code ./}); skips paths it cannot stat. */
    private static void checkDistinct(List<Path> paths) throws ArrayException {
        Map<Object, Integer> seen = new HashMap<>();
        for (int i = 0; i < paths.size(); i++) {
            Path path = paths.get(i);
            Object key;
            try {
                key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            } catch (IOException e) {
                continue; // absent or unreadable: the open says why
            }
            Integer earlier = key == null ? null : seen.putIfAbsent(key, i);
            if (earlier != null) {
                Path first = paths.get(earlier);
                String what = first.equals(path) ? path + " is listed twice"
                        : first + " and " + path + " are the same file";
                throw new ArrayException(what + " (members " + (earlier + 1) + " and " + (i + 1) + ")",
                        "list each member file once");
            }
        }
    }

    /** The array-level checks, in the order that gives the most useful message first. */
    private AssembledArray check(List<Opened> opened, List<Absent> absent, DirtyDegraded force, List<Path> given)
            throws ArrayException {
        UUID array = majorityArray(opened);
        refuseStrangers(opened, array);
        Opened newest = newest(opened);
        ArrayGeometry geometry = newest.record().geometry();
        for (Opened member : opened) {
            compareGeometry(newest, member);
        }
        if (!ArrayCreator.SUPPORTED_LEVELS.contains(geometry.level())) {
            throw new ArrayException("array '" + geometry.name() + "' is RAID-" + geometry.level()
                    + ", which this parityd does not know", "serve it with the parityd that created it");
        }
        List<MemberEntry> table = newest.record().members();
        Opened[] byRow = SlotConflicts.placeInRows(opened, newest);
        SlotConflicts.refuseReplaced(byRow, newest);
        for (int row = 0; row < byRow.length; row++) {
            if (byRow[row] != null && inUse(table, row)) {
                LeaveOut.refuseTooSmall(byRow[row], row, geometry, given);
            }
        }
        return build(geometry, newest.record(), byRow, absent, force);
    }

    /** Decides each slot's state from the table and what was found, then refuses what the level cannot carry. */
    private AssembledArray build(ArrayGeometry g, SuperblockRecord newest, Opened[] byRow, List<Absent> absent,
                                 DirtyDegraded force) throws ArrayException {
        int slots = g.memberCount();
        List<MemberEntry> table = new ArrayList<>(newest.members());
        BlockDevice[] devices = new BlockDevice[slots];
        Path[] paths = new Path[slots];
        String[] reasons = new String[slots];
        List<String> lost = new ArrayList<>();
        List<String> vanished = new ArrayList<>();
        boolean clean = true;
        List<Integer> forced = force == DirtyDegraded.FORCE ? ForcedAssembly.choose(g, table, byRow) : List.of();
        for (int slot = 0; slot < slots; slot++) {
            MemberEntry row = table.get(slot);
            Opened member = byRow[slot];
            if (member != null) {
                paths[slot] = member.path();
                clean &= member.record().clean();
            }
            if (forced.contains(slot)) {
                table.set(slot, row.withState(MemberState.ACTIVE, 0));
                devices[slot] = member.member();
            } else if (row.state() == MemberState.FAULTY || row.state() == MemberState.MISSING) {
                reasons[slot] = row.state() == MemberState.FAULTY ? "marked faulty; replace it"
                        : "was missing while the array ran; its data is stale; replace it";
                lost.add(lostSlot(slot, member, reasons[slot]));
                if (member != null) {
                    log.warn("array '{}': not using {} in slot {}: {}", g.name(), member.path(), slot, reasons[slot]);
                    closeQuietly(member.member());
                }
            } else if (member == null) {
                table.set(slot, row.withState(MemberState.MISSING, 0));
                reasons[slot] = "not given or unreadable (member uuid " + row.memberUuid() + ")";
                lost.add(lostSlot(slot, null, reasons[slot]));
                vanished.add(lostSlot(slot, null, reasons[slot]));
            } else {
                devices[slot] = member.member();
                if (row.state() == MemberState.REBUILDING) {
                    lost.add(lostSlot(slot, member, "rebuilding, " + row.rebuildPosition() + " of " + g.stripes() + " stripes done"));
                }
            }
        }
        List<AssembledArray.Spare> spares = spares(byRow, table, slots);
        refuseUnrecoverable(g, lost, absent, clean, force, journaledSafely(force, newest, vanished));
        if (!lost.isEmpty()) {
            log.warn("array '{}' (RAID-{}) starts DEGRADED: {}", g.name(), g.level(), String.join("; ", lost));
        }
        return new AssembledArray(g, newest, devices, paths, reasons, table, spares, clean, clock);
    }

    private static String lostSlot(int slot, Opened member, String reason) {
        return "slot " + slot + (member != null ? " (" + member.path() + ")" : "") + " " + reason;
    }

    private static List<AssembledArray.Spare> spares(Opened[] byRow, List<MemberEntry> table, int slots) {
        List<AssembledArray.Spare> spares = new ArrayList<>();
        for (int row = slots; row < byRow.length; row++) {
            if (byRow[row] != null) {
                spares.add(new AssembledArray.Spare(table.get(row).memberUuid(), byRow[row].path(), byRow[row].member()));
            }
        }
        // Spares listed in the table but not given stay out of the table from now on.
        table.subList(slots, table.size()).removeIf(row -> spares.stream().noneMatch(s -> s.uuid().equals(row.memberUuid())));
        return spares;
    }

    /** A dirty degraded start the journal's replay makes safe ({@link DirtyDegraded#JOURNAL_REPLAYS}). */
    private static boolean journaledSafely(DirtyDegraded policy, SuperblockRecord newest, List<String> vanished) {
        return policy == DirtyDegraded.JOURNAL_REPLAYS && newest.journalUuid().isPresent() && vanished.isEmpty();
    }

    private static void refuseUnrecoverable(ArrayGeometry g, List<String> lost, List<Absent> absent, boolean clean,
                                            DirtyDegraded force, boolean journaledSafely) throws ArrayException {
        int redundancy = redundancy(g);
        String unreadable = absent.isEmpty() ? "" : " (unreadable: " + describe(absent) + ")";
        if (lost.size() > redundancy) {
            throw new ArrayException("array '" + g.name() + "' (RAID-" + g.level() + ") can run without "
                    + redundancy + " member" + (redundancy == 1 ? "" : "s") + ", but " + lost.size() + " are unusable: "
                    + String.join("; ", lost) + unreadable, "find the missing members and list them, or restore them");
        }
        if (!lost.isEmpty() && !clean && force != DirtyDegraded.FORCE && !journaledSafely) {
            throw new ArrayException("array '" + g.name() + "' was not shut down cleanly and runs degraded ("
                    + String.join("; ", lost) + unreadable + "): stripes being written at the crash may hold stale"
                    + " parity, and data rebuilt from it would be wrong", "find the missing member, or start with"
                    + " --force to accept that risk");
        }
    }

    /** How many slots the level can lose and still serve every stripe. */
    static int redundancy(ArrayGeometry g) {
        return switch (g.level()) {
            case 0 -> 0;
            case 1 -> g.memberCount() - 1;
            case 6 -> 2;
            default -> 1;
        };
    }

    /** The array most given members belong to; on a tie, the first listed member's. */
    private static UUID majorityArray(List<Opened> opened) {
        Map<UUID, Integer> votes = new LinkedHashMap<>();
        for (Opened member : opened) {
            votes.merge(member.record().geometry().arrayUuid(), 1, Integer::sum);
        }
        UUID winner = opened.get(0).record().geometry().arrayUuid();
        for (Map.Entry<UUID, Integer> vote : votes.entrySet()) {
            if (vote.getValue() > votes.get(winner)) {
                winner = vote.getKey();
            }
        }
        return winner;
    }

    private static void refuseStrangers(List<Opened> opened, UUID array) throws ArrayException {
        Opened ours = opened.stream().filter(o -> o.record().geometry().arrayUuid().equals(array)).findFirst()
                .orElseThrow();
        long count = opened.stream().filter(o -> o.record().geometry().arrayUuid().equals(array)).count();
        for (Opened member : opened) {
            ArrayGeometry theirs = member.record().geometry();
            if (!theirs.arrayUuid().equals(array)) {
                String majority = count > 1 ? count + " of the given members" : "the first member listed";
                throw new ArrayException(member.path() + " belongs to array '" + theirs.name() + "' (uuid "
                        + theirs.arrayUuid() + "), not to array '" + ours.record().geometry().name() + "' (uuid "
                        + array + ") like " + majority, "list the members of one array only");
            }
        }
    }

    private static void compareGeometry(Opened reference, Opened member) throws ArrayException {
        ArrayGeometry a = reference.record().geometry();
        ArrayGeometry b = member.record().geometry();
        compareField("name", a, b, ArrayGeometry::name, reference, member);
        compareField("level", a, b, ArrayGeometry::level, reference, member);
        compareField("chunk size", a, b, ArrayGeometry::chunkSize, reference, member);
        compareField("member count", a, b, ArrayGeometry::memberCount, reference, member);
        compareField("data offset", a, b, ArrayGeometry::dataOffset, reference, member);
        compareField("member data size", a, b, ArrayGeometry::memberDataSize, reference, member);
    }

    private static void compareField(String field, ArrayGeometry a, ArrayGeometry b,
                                     Function<ArrayGeometry, Object> value, Opened reference, Opened member)
            throws ArrayException {
        if (!Objects.equals(value.apply(a), value.apply(b))) {
            throw new ArrayException("members of array '" + a.name() + "' disagree on " + field + ": "
                    + reference.path() + " says " + value.apply(a) + ", " + member.path() + " says "
                    + value.apply(b), "one superblock was altered or comes from another parityd; restore the"
                    + " right member before serving");
        }
    }

    /**
     * Whether the table will use the member in {@code row}: a slot it marks faulty or missing is
     * never read again (its data is stale), so nothing about its file can stop the start.
     */
    private static boolean inUse(List<MemberEntry> table, int row) {
        MemberState state = row < table.size() ? table.get(row).state() : MemberState.SPARE;
        return state != MemberState.FAULTY && state != MemberState.MISSING;
    }
}
