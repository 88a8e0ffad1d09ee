package io.parityd.raid;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Recognises what an interrupted {@code create} left ({@link SuperblockRecord#FLAG_CREATING}) and
 * refuses to start it, with the way on. Such an array never held data, so nothing is lost by
 * creating it again; starting it would be worse, because the members its first pass had not
 * reached would look failed and the array would run degraded from its first write.
 */
final class InterruptedCreate {

    private InterruptedCreate() {
    }

    /**
     * Refuses if, for any array among {@code records}, the newest superblock was written by a
     * create's first pass. Once its second pass has begun every member holds the array, so the
     * newest record is final and the CREATING ones are older (see {@link SuperblockRecord#AGE}).
     *
     * @param records each readable member's path and superblock, in the order given
     */
    static void refuse(Map<Path, SuperblockRecord> records) throws ArrayException {
        Map<UUID, List<Map.Entry<Path, SuperblockRecord>>> byArray = records.entrySet().stream()
                .collect(Collectors.groupingBy(e -> e.getValue().geometry().arrayUuid(),
                        java.util.LinkedHashMap::new, Collectors.toList()));
        for (List<Map.Entry<Path, SuperblockRecord>> members : byArray.values()) {
            SuperblockRecord newest = members.stream().map(Map.Entry::getValue)
                    .max(SuperblockRecord.AGE).orElseThrow();
            if (!newest.creating()) {
                continue;
            }
            List<String> stamped = new ArrayList<>();
            for (Map.Entry<Path, SuperblockRecord> member : members) {
                stamped.add(member.getKey().toString());
            }
            ArrayGeometry g = newest.geometry();
            throw new ArrayException("array '" + g.name() + "' (uuid " + g.arrayUuid() + ") was never completely"
                    + " created: create was interrupted before it had written every member (" + stamped.size()
                    + " of " + newest.members().size() + " given here: " + String.join(", ", stamped) + ")",
                    "run the same `parityd create` again; it overwrites what an interrupted create left without"
                            + " --force (no data was ever written to this array)");
        }
    }
}
