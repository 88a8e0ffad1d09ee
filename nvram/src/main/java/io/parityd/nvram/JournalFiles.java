package io.parityd.nvram;

import static io.parityd.nvram.JournalException.Problem.LOCKED;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.UUID;

/**
 * The files beside a journal: {@code <path>.lock} and the clean marker {@code <path>.clean}. Every
 * file the journal creates, itself included ({@link JournalStore#create}), is created owner-only:
 * the journal holds acknowledged writes, and the umask (022 by default) would let anyone read
 * them. A file that already exists keeps the mode the operator gave it.
 */
final class JournalFiles {

    /** Mode 0600 at creation: the umask can only take bits away from it, never add. */
    static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private JournalFiles() {
    }

    /** Holds {@code <path>.lock}; refuses with LOCKED if anyone, in this JVM or another process, holds it. */
    static FileChannel lock(Path path) throws JournalException, IOException {
        Path lockPath = sibling(path, ".lock");
        FileChannel c = FileChannel.open(lockPath, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                OWNER_ONLY);
        FileLock held;
        try {
            held = c.tryLock();
        } catch (OverlappingFileLockException e) {
            held = null; // this JVM holds it already
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        if (held == null) {
            c.close();
            throw new JournalException(LOCKED, "journal " + path + " is in use: another parityd holds " + lockPath);
        }
        return c;
    }

    static Path cleanMarker(Path path) {
        return sibling(path, ".clean");
    }

    /**
     * Reads and deletes the clean marker, durably, before anything else in the journal changes: a
     * crash from here on must not find a marker describing a file that has since changed.
     *
     * @return the journal UUID it named, or null if there was none (or it was unreadable)
     */
    static UUID takeCleanMarker(Path path) throws IOException {
        Path marker = cleanMarker(path);
        if (!Files.exists(marker)) {
            return null;
        }
        UUID uuid;
        try {
            uuid = UUID.fromString(Files.readString(marker, StandardCharsets.US_ASCII).trim());
        } catch (IllegalArgumentException e) {
            uuid = null; // an unreadable marker counts as none: recovery runs
        }
        Files.delete(marker);
        fsyncDirectory(path);
        return uuid;
    }

    /** Writes the clean marker durably: its content, then its directory entry. */
    static void writeCleanMarker(Path path, UUID journalUuid) throws IOException {
        Path marker = cleanMarker(path);
        try (FileChannel c = FileChannel.open(marker, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING), OWNER_ONLY)) {
            ByteBuffer b = ByteBuffer.wrap((journalUuid + "\n").getBytes(StandardCharsets.US_ASCII));
            while (b.hasRemaining()) {
                c.write(b);
            }
            c.force(true);
        }
        fsyncDirectory(path);
    }

    static void fsyncDirectory(Path path) throws IOException {
        try (FileChannel d = FileChannel.open(path.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    static Path sibling(Path path, String suffix) {
        return path.resolveSibling(path.getFileName() + suffix);
    }
}
