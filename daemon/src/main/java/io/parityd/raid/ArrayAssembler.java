package io.parityd.raid;

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

import io.parityd.member.FileMember;

/**
 * Opens an array from its member files, given in any order, and checks that they belong
 * together (DESIGN.md, "RAID": {@code serve} refuses members that disagree). It only reads:
 * a refusal leaves every member as it was and every opened member closed.
 *
 * <p><b>Generations.</b> Superblocks are written member by member, so a crash between two
 * members leaves them one generation apart. Members that disagree <em>only</em> in generation
 * (and the CLEAN flag and update time that came with it) are accepted: the highest generation
 * is the array's truth, and the next {@link AssembledArray#markDirty()} or
 * {@link AssembledArray#markClean()} rewrites it to every member with a generation above all
 * of them. Any other disagreement (geometry, array, slot) is refused.
 */
public final class ArrayAssembler {

    private final Clock clock;

    /** @param clock stamps the update time of superblocks the assembled array writes */
    public ArrayAssembler(Clock clock) {
        this.clock = clock;
    }

    /** One given member, open, with its superblock. */
    record Opened(Path path, FileMember member, SuperblockRecord record) {
    }

    /**
     * Opens and checks the members; the returned array owns them and closes them.
     *
     * @throws ArrayException naming the member and what to do, when a member is missing or
     *                        unreadable, holds no or a damaged or newer superblock, belongs to
     *                        another array, disagrees on geometry or slot, is too small, or when
     *                        members are missing or extra
     */
    public AssembledArray assemble(List<Path> memberPaths) throws ArrayException {
        if (memberPaths.isEmpty()) {
            throw new ArrayException("no members given", "list the array's member files");
        }
        List<Opened> opened = new ArrayList<>();
        try {
            for (Path path : memberPaths) {
                opened.add(open(path));
            }
            checkDistinct(opened);
            List<Opened> bySlot = check(opened);
            return new AssembledArray(bySlot, clock);
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

    private static Opened open(Path path) throws ArrayException {
        FileMember member;
        try {
            member = FileMember.open(path, false);
        } catch (NoSuchFileException e) {
            throw new ArrayException("member " + path + " does not exist", "check the path");
        } catch (IOException e) {
            throw new ArrayException("cannot open member " + path + ": " + ArrayCreator.reason(e),
                    "check the file and its permissions");
        }
        try {
            return new Opened(path, member, readSuperblock(path, member));
        } catch (ArrayException e) {
            try {
                member.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    private static SuperblockRecord readSuperblock(Path path, FileMember member) throws ArrayException {
        SuperblockRead read;
        try {
            read = Superblock.read(member);
        } catch (IOException e) {
            throw new ArrayException("cannot read the superblock of " + path + ": " + ArrayCreator.reason(e),
                    "check the file and the disk it is on");
        }
        switch (read.status()) {
            case OK:
                return read.record().orElseThrow();
            case MISSING:
                throw new ArrayException(path + " holds no parityd superblock",
                        "was it created with `parityd create`? check the path");
            case DAMAGED:
                throw new ArrayException(path + " has a damaged superblock: both copies fail their checks ("
                        + read.detail() + ")", "leave it out to run without it once degraded mode arrives,"
                        + " or restore the member");
            default:
                throw new ArrayException(path + " has a superblock of format " + read.formatVersion()
                        + ", newer than this parityd understands (" + Superblock.VERSION + ")",
                        "use the parityd version that wrote it");
        }
    }

    /** Refuses one file given twice under two spellings (symlink, hard link, {@code ./}). */
    private static void checkDistinct(List<Opened> opened) throws ArrayException {
        Map<Object, Integer> seen = new HashMap<>();
        for (int i = 0; i < opened.size(); i++) {
            Path path = opened.get(i).path();
            Object key;
            try {
                key = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            } catch (IOException e) {
                throw new ArrayException("cannot examine " + path + ": " + ArrayCreator.reason(e), "check the path");
            }
            Integer earlier = key == null ? null : seen.putIfAbsent(key, i);
            if (earlier != null) {
                Path first = opened.get(earlier).path();
                String what = first.equals(path) ? path + " is listed twice"
                        : first + " and " + path + " are the same file";
                throw new ArrayException(what + " (members " + (earlier + 1) + " and " + (i + 1) + ")",
                        "list each member file once");
            }
        }
    }

    /** The array-level checks, in the order that gives the most useful message first. */
    private static List<Opened> check(List<Opened> opened) throws ArrayException {
        UUID array = majorityArray(opened);
        refuseStrangers(opened, array);
        Opened newest = opened.stream().max(Comparator.comparingLong(o -> o.record().generation())).orElseThrow();
        ArrayGeometry geometry = newest.record().geometry();
        for (Opened member : opened) {
            compareGeometry(newest, member);
        }
        if (geometry.level() != ArrayCreator.SUPPORTED_LEVEL) {
            throw new ArrayException("array '" + geometry.name() + "' is RAID-" + geometry.level()
                    + ", which arrives in a later release", "serve it with a parityd that supports that level");
        }
        if (opened.size() > geometry.memberCount()) {
            throw new ArrayException("array '" + geometry.name() + "' has " + geometry.memberCount()
                    + " members but " + opened.size() + " were given", "list only the array's member files");
        }
        Opened[] bySlot = placeInSlots(opened, geometry);
        refuseReplaced(bySlot, newest.record());
        refuseMissing(bySlot, newest.record());
        for (Opened member : bySlot) {
            refuseTooSmall(member, geometry);
        }
        return List.of(bySlot);
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

    private static Opened[] placeInSlots(List<Opened> opened, ArrayGeometry geometry) throws ArrayException {
        Opened[] bySlot = new Opened[geometry.memberCount()];
        for (Opened member : opened) {
            int slot = member.record().slot();
            if (bySlot[slot] != null) {
                throw new ArrayException(bySlot[slot].path() + " and " + member.path() + " both claim slot " + slot
                        + " of array '" + geometry.name() + "'", "one is a copy or a replaced member; list only"
                        + " the one in use");
            }
            bySlot[slot] = member;
        }
        return bySlot;
    }

    /** Refuses a member whose slot the newest table gives to another member UUID. */
    private static void refuseReplaced(Opened[] bySlot, SuperblockRecord newest) throws ArrayException {
        for (Opened member : bySlot) {
            if (member == null) {
                continue;
            }
            UUID expected = newest.members().get(member.record().slot()).memberUuid();
            if (!expected.equals(member.record().memberUuid())) {
                throw new ArrayException(member.path() + " (member uuid " + member.record().memberUuid()
                        + ") claims slot " + member.record().slot() + ", but array '" + newest.geometry().name()
                        + "' lists member uuid " + expected + " there", "it was replaced; list the current member");
            }
        }
    }

    private static void refuseMissing(Opened[] bySlot, SuperblockRecord newest) throws ArrayException {
        List<String> missing = new ArrayList<>();
        int given = 0;
        for (int slot = 0; slot < bySlot.length; slot++) {
            if (bySlot[slot] == null) {
                missing.add("slot " + slot + " (member uuid " + newest.members().get(slot).memberUuid() + ")");
            } else {
                given++;
            }
        }
        if (!missing.isEmpty()) {
            throw new ArrayException("array '" + newest.geometry().name() + "' has " + bySlot.length
                    + " members but only " + given + " were given; missing " + String.join(", ", missing),
                    "add the missing member's path (running degraded arrives in a later release)");
        }
    }

    private static void refuseTooSmall(Opened member, ArrayGeometry geometry) throws ArrayException {
        long needed = geometry.dataOffset() + geometry.memberDataSize();
        if (member.member().size() < needed) {
            throw new ArrayException(member.path() + " is " + ByteSize.describe(member.member().size())
                    + " but array '" + geometry.name() + "' needs " + ByteSize.describe(needed) + " on each member",
                    "was it truncated? restore it to its full size or replace the member");
        }
    }
}
