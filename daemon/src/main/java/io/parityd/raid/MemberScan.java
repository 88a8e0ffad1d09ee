package io.parityd.raid;

import io.parityd.block.BlockDevice;
import io.parityd.member.Members;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Assembly by UUID ({@code serve --uuid UUID [--scan] PATH...}, like {@code mdadm --assemble
 * --uuid} with {@code --scan}): finds an array's current members among candidates, so a member
 * list that names replaced members, old copies, spares that took over or another array's
 * members still starts the right array. It only reads, and opens nothing for writing.
 *
 * <p>The candidate with the newest superblock of the array (by {@link SuperblockRecord#AGE})
 * holds the member table: for each row of it, the candidate whose member UUID the table lists
 * there, and of several such (copies) the newest. A candidate whose member UUID the table no
 * longer lists was replaced; it is left out, as is everything of another array or without a
 * superblock, and each is named with the reason. What is picked then goes through the ordinary
 * assembly, with all its checks.
 */
public final class MemberScan {

    /**
     * What the scan found.
     *
     * @param geometry the array's shape, from its newest superblock
     * @param members  the picked members, in the order they were found
     * @param leftOut  each candidate of this array not picked, with why
     * @param ignored  how many candidates belong to no array or to another one
     */
    public record Result(ArrayGeometry geometry, List<Path> members, List<String> leftOut, int ignored) {
    }

    private MemberScan() {
    }

    /**
     * Picks the array's current members among {@code places}.
     *
     * @param uuid      the array to find; if empty, the candidates must hold exactly one array
     * @param places    member files or devices, and with {@code directories} directories whose
     *                  regular files and block devices (not sub-directories) are candidates
     * @param directories whether a directory is a place to look ({@code --scan}) or a mistake
     * @throws ArrayException when no candidate holds the array, or several arrays and no UUID
     */
    public static Result pick(Optional<UUID> uuid, List<Path> places, boolean directories) throws ArrayException {
        Map<Path, SuperblockRecord> records = new LinkedHashMap<>();
        List<String> leftOut = new ArrayList<>();
        int unreadable = 0;
        for (Path candidate : candidates(places, directories)) {
            Optional<SuperblockRecord> record = read(candidate);
            if (record.isPresent()) {
                records.put(candidate, record.get());
            } else {
                unreadable++;
                if (places.contains(candidate)) { // named, not found in a directory: say so
                    leftOut.add(candidate + ": " + (Files.exists(candidate) ? "no readable parityd superblock"
                            : "does not exist"));
                }
            }
        }
        UUID array = chooseArray(uuid, records, places);
        Map<Path, SuperblockRecord> ours = new LinkedHashMap<>();
        records.forEach((path, record) -> {
            if (record.geometry().arrayUuid().equals(array)) {
                ours.put(path, record);
            } else if (places.contains(path)) {
                leftOut.add(path + ": belongs to array '" + record.geometry().name() + "' "
                        + record.geometry().arrayUuid());
            }
        });
        SuperblockRecord newest = ours.values().stream().max(SuperblockRecord.AGE).orElseThrow();
        List<MemberEntry> table = newest.members();
        Map<UUID, Path> current = new LinkedHashMap<>();
        for (Map.Entry<Path, SuperblockRecord> candidate : ours.entrySet()) {
            SuperblockRecord record = candidate.getValue();
            int row = rowOf(table, record.memberUuid());
            if (row < 0) {
                leftOut.add(candidate.getKey() + ": replaced (its member uuid " + record.memberUuid() + " is no longer"
                        + " in the array's table; it last took part at generation " + record.generation() + ")");
                continue;
            }
            Path earlier = current.get(record.memberUuid());
            if (earlier == null) {
                current.put(record.memberUuid(), candidate.getKey());
            } else if (SuperblockRecord.AGE.compare(record, ours.get(earlier)) > 0) {
                leftOut.add(earlier + ": an older copy of " + rowName(table, row) + " (generation "
                        + ours.get(earlier).generation() + "; " + candidate.getKey() + " has " + record.generation() + ")");
                current.put(record.memberUuid(), candidate.getKey());
            } else {
                leftOut.add(candidate.getKey() + ": an older or identical copy of " + rowName(table, row)
                        + " (generation " + record.generation() + "; " + earlier + " has "
                        + ours.get(earlier).generation() + ")");
            }
        }
        int ignored = unreadable + records.size() - ours.size();
        return new Result(newest.geometry(), List.copyOf(current.values()), leftOut, ignored);
    }

    /**
     * {@link #pick}, logging what it found and each candidate it left out and why: for
     * {@code serve} at its start, and a controller at its start and at each promotion (a spare
     * may have taken a slot over meanwhile).
     */
    public static List<Path> current(Optional<UUID> uuid, List<Path> places, boolean directories)
            throws ArrayException {
        Result found = pick(uuid, places, directories);
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MemberScan.class);
        log.info("array '{}' ({}): found {} member{} among {}{}", found.geometry().name(), found.geometry().arrayUuid(),
                found.members().size(), found.members().size() == 1 ? "" : "s", places,
                found.ignored() == 0 ? "" : "; " + found.ignored() + " file(s) of no array or another one ignored");
        for (String reason : found.leftOut()) {
            log.info("array '{}': left out {}", found.geometry().name(), reason);
        }
        return found.members();
    }

    private static int rowOf(List<MemberEntry> table, UUID member) {
        for (int row = 0; row < table.size(); row++) {
            if (table.get(row).memberUuid().equals(member)) {
                return row;
            }
        }
        return -1;
    }

    private static String rowName(List<MemberEntry> table, int row) {
        return table.get(row).state() == MemberState.SPARE ? "spare row " + row : "the member of slot " + row;
    }

    private static UUID chooseArray(Optional<UUID> uuid, Map<Path, SuperblockRecord> records, List<Path> places)
            throws ArrayException {
        Map<UUID, List<SuperblockRecord>> arrays = records.values().stream()
                .collect(Collectors.groupingBy(r -> r.geometry().arrayUuid(), LinkedHashMap::new, Collectors.toList()));
        String where = places.stream().map(Path::toString).collect(Collectors.joining(" "));
        if (uuid.isPresent()) {
            if (!arrays.containsKey(uuid.get())) {
                throw new ArrayException("no member of array " + uuid.get() + " is among " + where
                        + found(arrays), "check the UUID (`parityd examine MEMBER` prints it) and where to look");
            }
            return uuid.get();
        }
        if (arrays.size() == 1) {
            return arrays.keySet().iterator().next();
        }
        if (arrays.isEmpty()) {
            throw new ArrayException("nothing among " + where + " holds a parityd superblock",
                    "check where to look; an array is made with `parityd create`");
        }
        throw new ArrayException(where + " hold" + (places.size() == 1 ? "s" : "") + " members of " + arrays.size()
                + " arrays" + found(arrays), "say which to serve with --uuid UUID");
    }

    private static String found(Map<UUID, List<SuperblockRecord>> arrays) {
        if (arrays.isEmpty()) {
            return " (no parityd superblock found there)";
        }
        List<String> names = new ArrayList<>();
        arrays.forEach((uuid, records) -> names.add("'" + records.get(0).geometry().name() + "' " + uuid + " ("
                + records.size() + " member" + (records.size() == 1 ? "" : "s") + ")"));
        return ": found " + String.join(", ", names);
    }

    /** The places, with directories expanded to their regular files and block devices, sorted by name. */
    private static List<Path> candidates(List<Path> places, boolean directories) throws ArrayException {
        List<Path> candidates = new ArrayList<>();
        for (Path place : places) {
            if (!Files.isDirectory(place)) {
                candidates.add(place);
                continue;
            }
            if (!directories) {
                throw new ArrayException(place + " is a directory", "pass --scan to look for members in it, or list"
                        + " the member files");
            }
            List<Path> inside = new ArrayList<>();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(place)) {
                for (Path entry : entries) {
                    if (Files.isRegularFile(entry) || Members.isBlockDevice(entry)) {
                        inside.add(entry);
                    }
                }
            } catch (IOException e) {
                throw new ArrayException("cannot list " + place + ": " + ArrayCreator.reason(e),
                        "check the directory and its permissions");
            }
            inside.sort(null);
            candidates.addAll(inside);
        }
        return candidates;
    }

    /** A candidate's superblock, read without opening it for writing; empty if it has none or cannot be read. */
    private static Optional<SuperblockRecord> read(Path candidate) {
        try {
            if (Members.sizeOf(candidate) < Superblock.RESERVED_BYTES) {
                return Optional.empty();
            }
            try (BlockDevice device = Members.open(candidate, true)) {
                return Superblock.read(device).record();
            }
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
