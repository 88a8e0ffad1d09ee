package io.parityd.nvram;

import java.nio.file.Path;
import java.util.Objects;
import java.util.UUID;

/**
 * How to open a journal.
 *
 * @param path          the journal file; {@code <path>.lock} and {@code <path>.clean} live beside it
 * @param arrayUuid     the array the journal belongs to; a journal of another array is refused
 * @param arrayName     the array's name, for messages and the header
 * @param expected      the journal UUID the array's superblock names (its last run wrote through
 *                      it and did not stop cleanly), or null if the superblock names none
 * @param capacityBytes bytes of write data the journal holds at most (records beyond are made to wait)
 * @param nonVolatile   the operator declared the file's placement non-volatile (DAX/pmem, tmpfs
 *                      on a UPS-backed host): appends are durable when written, no sync is done
 * @param discard       the operator asked to drop whatever the file holds ({@code --discard-journal});
 *                      still refused for another array's journal
 * @param syncHook      called after every completed sync, before any waiter is told; tests use it
 *                      to snapshot what would survive a power loss. {@link SyncHook#NONE} otherwise.
 * @param mode          what a new journal holds; an existing one keeps its mode until what it holds
 *                      is finished ({@link Journal#switchMode})
 */
public record JournalOptions(Path path, UUID arrayUuid, String arrayName, UUID expected, long capacityBytes,
                             boolean nonVolatile, boolean discard, SyncHook syncHook, JournalMode mode) {

    /** In {@link JournalMode#DATA} mode, the format's first. */
    public JournalOptions(Path path, UUID arrayUuid, String arrayName, UUID expected, long capacityBytes,
                          boolean nonVolatile, boolean discard, SyncHook syncHook) {
        this(path, arrayUuid, arrayName, expected, capacityBytes, nonVolatile, discard, syncHook, JournalMode.DATA);
    }

    /** These options in {@code newMode}. */
    public JournalOptions inMode(JournalMode newMode) {
        return new JournalOptions(path, arrayUuid, arrayName, expected, capacityBytes, nonVolatile, discard, syncHook,
                newMode);
    }

    /** The default capacity: enough for a burst of large writes, small next to a disk. */
    public static final long DEFAULT_CAPACITY = 256L << 20;

    public JournalOptions {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(arrayUuid, "arrayUuid");
        Objects.requireNonNull(arrayName, "arrayName");
        Objects.requireNonNull(syncHook, "syncHook");
        Objects.requireNonNull(mode, "mode");
        if (capacityBytes < JournalFormat.MAX_PIECE_BYTES) {
            throw new IllegalArgumentException("journal capacity must be at least "
                    + JournalFormat.MAX_PIECE_BYTES + " bytes: " + capacityBytes);
        }
    }

    /** Called after each completed sync of the journal file. */
    @FunctionalInterface
    public interface SyncHook {
        SyncHook NONE = file -> { };

        void synced(Path file) throws java.io.IOException;
    }
}
