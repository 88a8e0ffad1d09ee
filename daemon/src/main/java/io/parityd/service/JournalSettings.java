package io.parityd.service;

import io.parityd.nvram.JournalOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How {@code serve} journals writes (DESIGN.md "NVRAM").
 *
 * @param enabled     false for {@code --no-journal}: an unclean stop then forces a full resync
 * @param path        the journal file, or null for {@link #defaultPath}
 * @param capacity    bytes of write data the journal holds before new requests wait
 * @param nonVolatile the operator declared the file's placement non-volatile: no sync before
 *                    member writes ({@code --nvram-nonvolatile})
 * @param discard     drop what the journal holds ({@code --discard-journal}); forces a full resync
 */
public record JournalSettings(boolean enabled, Path path, long capacity, boolean nonVolatile, boolean discard) {

    /** The default: journaled, safe (synced) placement, default capacity, default path. */
    public static final JournalSettings DEFAULT = new JournalSettings(true, null, JournalOptions.DEFAULT_CAPACITY,
            false, false);

    public JournalSettings {
        if (capacity < io.parityd.nvram.JournalFormat.MAX_PIECE_BYTES) {
            throw new IllegalArgumentException("--nvram-size must be at least 1M, got " + capacity);
        }
        if (!enabled && (path != null || nonVolatile)) {
            throw new IllegalArgumentException("--no-journal cannot be combined with --nvram or --nvram-nonvolatile");
        }
    }

    /** These settings with the journal at {@code file}. */
    public JournalSettings at(Path file) {
        return new JournalSettings(enabled, file, capacity, nonVolatile, discard);
    }

    /**
     * Where the journal of array {@code name} lives unless {@code --nvram} says: beside the array's
     * metadata, i.e. in the directory of the first member (by slot) that is a regular file; for
     * arrays of block devices, the state directory ({@code $STATE_DIRECTORY} under systemd, else
     * {@code /var/lib/parityd}).
     *
     * @param memberPaths members by slot (null for absent slots)
     */
    public static Path defaultPath(String name, List<Path> memberPaths) {
        for (Path p : memberPaths) {
            if (p != null && Files.isRegularFile(p)) {
                return p.toAbsolutePath().resolveSibling(name + ".nvram");
            }
        }
        String state = System.getenv("STATE_DIRECTORY");
        Path dir = state != null && !state.isBlank() ? Path.of(state.split(":")[0]) : Path.of("/var/lib/parityd");
        return dir.resolve(name + ".nvram");
    }
}
