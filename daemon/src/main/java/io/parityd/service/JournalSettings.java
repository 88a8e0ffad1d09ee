package io.parityd.service;

import io.parityd.nvram.JournalMode;
import io.parityd.nvram.JournalOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * How {@code serve} journals writes (DESIGN.md "NVRAM").
 *
 * @param enabled     false for {@code --journal off}: an unclean stop then forces a full resync
 * @param path        the journal file, or null for {@link #defaultPath}
 * @param capacity    bytes of write data the journal holds before new requests wait
 * @param nonVolatile the operator declared the file's placement non-volatile: no sync before
 *                    member writes ({@code --nvram-nonvolatile})
 * @param discard     drop what the journal holds ({@code --discard-journal}); forces a full resync
 * @param mode        what the journal holds ({@code --journal commands|data}); ignored when not enabled
 * @param regionBytes a dirty region's size in {@code commands} mode ({@code --journal-region})
 */
public record JournalSettings(boolean enabled, Path path, long capacity, boolean nonVolatile, boolean discard,
                              JournalMode mode, long regionBytes) {

    /** The default region size: see {@code io.parityd.controller.DirtyRegions#DEFAULT_REGION_BYTES}. */
    public static final long DEFAULT_REGION_BYTES = 16L << 20;

    /**
     * The default: a commands journal (issue 15: the patent's write path, which costs almost
     * nothing), safe (synced) placement, default capacity, default path, 16 MiB regions.
     */
    public static final JournalSettings DEFAULT = new JournalSettings(true, null, JournalOptions.DEFAULT_CAPACITY,
            false, false, JournalMode.COMMANDS, DEFAULT_REGION_BYTES);

    public JournalSettings {
        if (capacity < io.parityd.nvram.JournalFormat.MAX_PIECE_BYTES) {
            throw new IllegalArgumentException("--nvram-size must be at least 1M, got " + capacity);
        }
        if (!enabled && (path != null || nonVolatile)) {
            throw new IllegalArgumentException("--journal off cannot be combined with --nvram or --nvram-nonvolatile");
        }
        java.util.Objects.requireNonNull(mode, "mode");
        if (regionBytes < (64 << 10) || Long.bitCount(regionBytes) != 1) {
            throw new IllegalArgumentException("--journal-region must be a power of two of at least 64K, got "
                    + regionBytes);
        }
    }

    /** A commands journal with the default regions (or none when not {@code enabled}). */
    public JournalSettings(boolean enabled, Path path, long capacity, boolean nonVolatile, boolean discard) {
        this(enabled, path, capacity, nonVolatile, discard, JournalMode.COMMANDS, DEFAULT_REGION_BYTES);
    }

    /** These settings with the journal at {@code file}. */
    public JournalSettings at(Path file) {
        return new JournalSettings(enabled, file, capacity, nonVolatile, discard, mode, regionBytes);
    }

    /** These settings in {@code newMode}. */
    public JournalSettings inMode(JournalMode newMode) {
        return new JournalSettings(enabled, path, capacity, nonVolatile, discard, newMode, regionBytes);
    }

    /** The mode as the CLI, status and metrics name it: commands, data, or off. */
    public String modeWord() {
        return enabled ? mode.word() : "off";
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
