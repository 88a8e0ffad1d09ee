package io.parityd.raid;

import io.parityd.block.BlockDevice;
import io.parityd.member.Members;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What an array's superblocks say, read without opening any member for writing (so without
 * taking their locks): for an HA controller that is not primary, which must know the array it
 * belongs to, its epoch and whether it stopped cleanly, while the primary holds the members.
 *
 * @param record the newest valid superblock among the members (highest generation)
 * @param read   members whose superblock could be read
 */
public record ArrayProbe(SuperblockRecord record, int read) {

    public ArrayGeometry geometry() {
        return record.geometry();
    }

    public long epoch() {
        return record.epoch();
    }

    public boolean clean() {
        return record.clean();
    }

    /**
     * Reads every member's superblock read-only and keeps the newest.
     *
     * @throws ArrayException if none can be read, or two members belong to different arrays
     */
    public static ArrayProbe of(List<Path> members) throws ArrayException {
        SuperblockRecord newest = null;
        int read = 0;
        java.util.Map<Path, SuperblockRecord> records = new java.util.LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Path path : members) {
            try (BlockDevice device = Members.open(path, true)) {
                Optional<SuperblockRecord> r = Superblock.read(device).record();
                if (r.isEmpty()) {
                    problems.add(path + ": no usable superblock");
                    continue;
                }
                SuperblockRecord rec = r.get();
                if (newest != null && !newest.geometry().arrayUuid().equals(rec.geometry().arrayUuid())) {
                    throw new ArrayException(path + " belongs to array '" + rec.geometry().name() + "' ("
                            + rec.geometry().arrayUuid() + "), the other members to '" + newest.geometry().name()
                            + "' (" + newest.geometry().arrayUuid() + ")", "list only the members of one array");
                }
                read++;
                records.put(path, rec);
                if (newest == null || SuperblockRecord.AGE.compare(rec, newest) > 0) {
                    newest = rec;
                }
            } catch (IOException e) {
                problems.add(path + ": " + e.getMessage());
            }
        }
        if (newest == null) {
            throw new ArrayException("no member's superblock can be read (" + String.join("; ", problems) + ")",
                    "check the member paths; they must be the array's files or devices");
        }
        InterruptedCreate.refuse(records);
        return new ArrayProbe(newest, read);
    }
}
