package io.parityd.raid;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Refusals of assembly for a member file that is there but can no longer be one (truncated,
 * overwritten), which tell the operator the way on: leave it off the command line, which starts
 * the array degraded exactly as if the file were gone, then replace it. Each names the file, the
 * slot it would have been, and the command without it, spelled with the paths as given.
 */
final class LeaveOut {

    private LeaveOut() {
    }

    /**
     * Refuses the first of {@code blank}, files without any superblock: with the slot it may have
     * been and the way on when other members say which array it is, as before otherwise.
     */
    static void refuseBlank(List<Path> blank, List<ArrayAssembler.Opened> opened, List<Path> given)
            throws ArrayException {
        if (blank.isEmpty()) {
            return;
        }
        if (opened.isEmpty()) {
            throw new ArrayException(blank.get(0) + " holds no parityd superblock",
                    "was it created with `parityd create`? check the path (a new disk for a failed member"
                            + " is added with `parityd replace` once the array runs)");
        }
        SuperblockRecord newest = ArrayAssembler.newest(opened).record();
        boolean[] present = new boolean[newest.geometry().memberCount()];
        for (ArrayAssembler.Opened member : opened) {
            int slot = member.record().slot();
            if (slot < present.length && newest.members().get(slot).memberUuid().equals(member.record().memberUuid())) {
                present[slot] = true;
            }
        }
        throw noSuperblock(blank.get(0), newest, present, given);
    }

    /** Refuses a member the array will use that is smaller than the geometry needs. */
    static void refuseTooSmall(ArrayAssembler.Opened member, int row, ArrayGeometry geometry, List<Path> given)
            throws ArrayException {
        long needed = geometry.dataOffset() + geometry.memberDataSize();
        if (member.member().size() < needed) {
            throw new ArrayException(member.path() + " is " + ByteSize.describe(member.member().size())
                    + " but array '" + geometry.name() + "' needs " + ByteSize.describe(needed) + " on each member",
                    tooSmallFix(member.path(), row, geometry, given));
        }
    }

    /**
     * {@code blank} holds no superblock (a truncated member reads as zeroes, or as nothing).
     *
     * @param newest the newest superblock among the members that could be read
     * @param slotsPresent which slots those members fill
     * @param given every path as given, in order
     */
    private static ArrayException noSuperblock(Path blank, SuperblockRecord newest, boolean[] slotsPresent, List<Path> given) {
        ArrayGeometry g = newest.geometry();
        List<String> lacking = new ArrayList<>();
        int firstLacking = -1;
        for (int slot = 0; slot < g.memberCount(); slot++) {
            if (!slotsPresent[slot]) {
                lacking.add(slot + " (" + describe(newest.members().get(slot).state()) + ")");
                firstLacking = firstLacking < 0 ? slot : firstLacking;
            }
        }
        if (lacking.isEmpty()) {
            return new ArrayException(blank + " holds no parityd superblock, and array '" + g.name() + "' has a member"
                    + " for every slot without it", "leave it off the command line: " + command(given, blank)
                    + "; a new disk joins as a spare with parityd add-spare once the array runs");
        }
        return new ArrayException(blank + " holds no parityd superblock, and array '" + g.name() + "' has no member"
                + " for slot" + (lacking.size() == 1 ? " " : "s ") + String.join(", ", lacking), "if " + blank
                + " was that member (truncated or overwritten), " + startWithout(given, blank, firstLacking)
                + "; if it is not, check the path");
    }

    /** {@code member} of {@code slot} (a spare when past the slots) is smaller than the array needs. */
    private static String tooSmallFix(Path member, int slot, ArrayGeometry g, List<Path> given) {
        if (slot >= g.memberCount()) {
            return "was it truncated? restore it to its full size, or leave the spare off the command line: "
                    + command(given, member);
        }
        return "was it truncated? restore it to its full size, or " + startWithout(given, member, slot);
    }

    private static String startWithout(List<Path> given, Path member, int slot) {
        return "leave it off the command line to start the array degraded without it: " + command(given, member)
                + ", then put a new member in its place: parityd replace " + slot + " NEW-MEMBER";
    }

    /** {@code parityd serve} with every given path but {@code left}, as the operator wrote them. */
    private static String command(List<Path> given, Path left) {
        return "parityd serve " + given.stream().filter(p -> !p.equals(left)).map(Path::toString)
                .collect(Collectors.joining(" ")) + " (with your other options)";
    }

    private static String describe(MemberState state) {
        return switch (state) {
            case FAULTY -> "marked faulty";
            case MISSING -> "missing since the array last ran";
            case REBUILDING -> "being rebuilt";
            default -> "not given";
        };
    }
}
