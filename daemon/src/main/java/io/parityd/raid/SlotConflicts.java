package io.parityd.raid;

import io.parityd.raid.ArrayAssembler.Opened;
import java.util.List;
import java.util.UUID;

/**
 * Places the given members in the rows their superblocks name, and refuses two members for one
 * slot or a member the array replaced, naming which one is current and the evidence: the member
 * UUID the newest member table lists in that slot, and each file's generation and update time
 * (what {@code parityd examine} shows). The old member list of a unit file after a spare took
 * over, or after a {@code replace}, ends here; the message says which line to drop.
 */
final class SlotConflicts {

    private SlotConflicts() {
    }

    /**
     * Each readable member in the table row its superblock names (slots, then spares).
     *
     * @param newest the member holding the newest superblock: its table says who is current
     */
    static Opened[] placeInRows(List<Opened> opened, Opened newest) throws ArrayException {
        SuperblockRecord table = newest.record();
        ArrayGeometry geometry = table.geometry();
        Opened[] byRow = new Opened[Math.max(table.members().size(), geometry.memberCount())];
        for (Opened member : opened) {
            int row = member.record().slot();
            if (row >= byRow.length) {
                throw new ArrayException(member.path() + " was a spare of array '" + geometry.name()
                        + "' that the array no longer lists", "leave it out, or add it again with `parityd add-spare`");
            }
            if (byRow[row] != null) {
                throw conflict(byRow[row], member, row, newest);
            }
            byRow[row] = member;
        }
        return byRow;
    }

    /** Refuses a member whose slot the newest table gives to another member UUID. */
    static void refuseReplaced(Opened[] byRow, Opened newest) throws ArrayException {
        for (Opened member : byRow) {
            if (member == null) {
                continue;
            }
            int slot = member.record().slot();
            UUID current = newest.record().members().get(slot).memberUuid();
            if (!current.equals(member.record().memberUuid())) {
                throw new ArrayException(evidence(member) + " claims slot " + slot + ", but the newest member table ("
                        + tableEvidence(newest) + ") lists member uuid " + current + " there",
                        "it was replaced; list the current member (`parityd examine` shows each file's member uuid)"
                                + " instead of " + member.path());
            }
        }
    }

    private static ArrayException conflict(Opened a, Opened b, int row, Opened newest) {
        String array = newest.record().geometry().name();
        UUID listed = newest.record().members().get(row).memberUuid();
        boolean aListed = a.record().memberUuid().equals(listed);
        boolean bListed = b.record().memberUuid().equals(listed);
        String both = evidence(a) + " and " + evidence(b) + " both claim slot " + row + " of array '" + array + "'";
        if (aListed != bListed) {
            Opened current = aListed ? a : b;
            Opened stale = aListed ? b : a;
            return new ArrayException(both + "; the newest member table (" + tableEvidence(newest) + ") lists "
                    + current.path() + " there: " + stale.path() + " was replaced (by a spare, or with"
                    + " `parityd replace`)", "list " + current.path() + " and leave out " + stale.path());
        }
        if (!aListed) {
            return new ArrayException(both + ", but the newest member table (" + tableEvidence(newest)
                    + ") lists member uuid " + listed + " there: both were replaced",
                    "leave both out and list the current member of slot " + row);
        }
        int order = SuperblockRecord.AGE.compare(a.record(), b.record());
        if (order == 0) {
            return new ArrayException(both + ": they are copies of one member, at the same generation",
                    "list only one of them");
        }
        Opened newer = order > 0 ? a : b;
        Opened older = order > 0 ? b : a;
        return new ArrayException(both + ": they are copies of one member, and " + newer.path()
                + " is the newer (" + older.path() + " is an old copy: its data is stale)",
                "list " + newer.path() + " and leave out " + older.path());
    }

    /** A file and what its superblock says about it. */
    private static String evidence(Opened member) {
        SuperblockRecord r = member.record();
        return member.path() + " (member uuid " + r.memberUuid() + ", generation " + r.generation() + ", updated "
                + r.updated() + ")";
    }

    private static String tableEvidence(Opened newest) {
        return "generation " + newest.record().generation() + ", on " + newest.path();
    }
}
