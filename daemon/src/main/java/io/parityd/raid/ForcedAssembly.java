package io.parityd.raid;

import io.parityd.raid.ArrayAssembler.Opened;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code serve --force} of a failed array ({@code mdadm --assemble --force}): when more slots are
 * lost than the level carries, but some of them are marked faulty or missing only in the member
 * table, while their files are given, readable and still hold this array's superblock for that
 * slot, the members that dropped out <em>last</em> are trusted again, just enough of them to
 * start. The rest stay out.
 *
 * <p>Why the last ones: a member's own superblock stops at the generation it was last written
 * with, the last it took part in. Writes made after it dropped out went to the others and are
 * missing from it, so the member that dropped out last misses the fewest: typically none, when
 * the array failed with it (a failed array serves no write that would need the lost slots). An
 * operator's {@code fail} of one member too many, or an error that passed, then costs nothing.
 *
 * <p>Only members whose data the table merely distrusts qualify: a slot being rebuilt holds
 * data only up to its rebuild position, and a member whose slot was given to another member is
 * refused before this runs. Every decision is logged, with each member's generation.
 */
final class ForcedAssembly {

    private static final Logger log = LoggerFactory.getLogger(ForcedAssembly.class);

    private ForcedAssembly() {
    }

    /**
     * The slots to trust again, or none when the array starts without them (it is not failed) or
     * cannot start even with all of them.
     *
     * @param table the newest member table
     * @param byRow the given members, by the row their superblock names
     */
    static List<Integer> choose(ArrayGeometry g, List<MemberEntry> table, Opened[] byRow) {
        int lost = 0;
        List<Integer> candidates = new ArrayList<>();
        for (int slot = 0; slot < g.memberCount(); slot++) {
            MemberState state = table.get(slot).state();
            boolean distrusted = state == MemberState.FAULTY || state == MemberState.MISSING;
            if (distrusted || state == MemberState.REBUILDING || byRow[slot] == null) {
                lost++;
            }
            if (distrusted && byRow[slot] != null) {
                candidates.add(slot);
            }
        }
        int needed = lost - ArrayAssembler.redundancy(g);
        if (needed <= 0 || candidates.size() < needed) {
            return List.of();
        }
        // Newest first; on a tie, the lower slot (the sort is stable).
        candidates.sort(Comparator.comparing((Integer slot) -> byRow[slot].record(), SuperblockRecord.AGE).reversed());
        List<Integer> chosen = List.copyOf(candidates.subList(0, needed));
        for (int slot : chosen) {
            log.warn("array '{}': --force: trusting slot {} ({}, {}) again: it last took part at generation {}, the"
                    + " latest of the members marked lost, so it lacks the fewest writes", g.name(), slot,
                    byRow[slot].path(), describe(table.get(slot).state()), byRow[slot].record().generation());
        }
        for (int slot : candidates.subList(needed, candidates.size())) {
            log.warn("array '{}': --force: slot {} ({}) stays out: it last took part at generation {}, and writes"
                    + " made since are missing from it; replace it once the array runs", g.name(), slot,
                    byRow[slot].path(), byRow[slot].record().generation());
        }
        return chosen;
    }

    private static String describe(MemberState state) {
        return state == MemberState.FAULTY ? "marked faulty" : "marked missing";
    }
}
