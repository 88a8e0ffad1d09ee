package io.parityd.nvram;

import static io.parityd.nvram.JournalException.Problem.LOCKED;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files beside a journal: {@code <path>.lock}, the clean marker {@code <path>.clean} and the
 * room kept for the next marker, {@code <path>.clean.next}. Every file the journal creates, itself included ({@link JournalStore#create}), is created owner-only:
 * the journal holds acknowledged writes, and the umask (022 by default) would let anyone read
 * them. A file that already exists keeps the mode the operator gave it.
 */
final class JournalFiles {

    private static final Logger LOG = LoggerFactory.getLogger(JournalFiles.class);

    /** A marker is a UUID and a newline. */
    private static final int MARKER_BYTES = 37;
    private static final String NO_SPACE = "No space left on device";

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
     * {@code <path>.clean.next}: a marker-sized file kept while the journal is open, so the clean
     * close writes its marker into blocks the filesystem has already given it and then renames it
     * into place. A journal's filesystem filling up (another file on it grew) then cannot turn a
     * clean stop into a dirty one: nothing else of a clean close needs new space either, since the
     * journal file is laid out in full when it is created.
     */
    static Path markerRoom(Path path) {
        return sibling(path, ".clean.next");
    }

    /**
     * Reads the clean marker and takes it away, durably, before anything else in the journal
     * changes: a crash from here on must not find a marker describing a file that has since
     * changed. The marker is renamed, not deleted: it becomes the {@linkplain #markerRoom room}
     * for the next one.
     *
     * @return the journal UUID it named, or null if there was none (or it was unreadable)
     */
    static UUID takeCleanMarker(Path path) throws IOException {
        Path marker = cleanMarker(path);
        Path room = markerRoom(path);
        if (!Files.exists(marker)) {
            keepRoom(path, room);
            return null;
        }
        UUID uuid;
        try {
            uuid = UUID.fromString(Files.readString(marker, StandardCharsets.US_ASCII).trim());
        } catch (IllegalArgumentException e) {
            uuid = null; // an unreadable marker counts as none: recovery runs
        }
        Files.move(marker, room, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDirectory(path);
        keepRoom(path, room); // an old marker left empty by a failed write has no block to reuse
        return uuid;
    }

    /**
     * Makes sure the room holds a marker's worth of allocated bytes. A failure here only matters
     * if the filesystem is still full at the clean close, which then says so; it must not stop
     * the journal from opening, so it is logged and the open goes on.
     */
    private static void keepRoom(Path path, Path room) {
        try {
            if (Files.exists(room) && Files.size(room) >= MARKER_BYTES) {
                return;
            }
            try (FileChannel c = FileChannel.open(room, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                    OWNER_ONLY)) {
                writeAt(c, new byte[MARKER_BYTES]);
                c.force(true);
            }
        } catch (IOException e) {
            LOG.warn("journal {}: cannot keep room for its clean-shutdown marker in {} ({}); if its filesystem is"
                    + " still full when parityd stops, the stop cannot mark the journal clean", path, room,
                    e.toString());
        }
    }

    /**
     * Writes the clean marker durably: its content into the room kept at open (its blocks
     * already allocated), then renamed into place, then its directory entry.
     *
     * @throws IOException naming the journal, and saying so when its filesystem is full
     */
    static void writeCleanMarker(Path path, UUID journalUuid) throws IOException {
        Path marker = cleanMarker(path);
        Path room = markerRoom(path);
        byte[] content = (journalUuid + "\n").getBytes(StandardCharsets.US_ASCII);
        try {
            try (FileChannel c = FileChannel.open(room, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                    OWNER_ONLY)) {
                writeAt(c, content);
                c.truncate(content.length);
                c.force(true);
            }
            Files.move(room, marker, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            fsyncDirectory(path);
        } catch (IOException e) {
            if (!noSpace(e)) {
                throw e;
            }
            throw new IOException("journal " + path + ": cannot write its clean-shutdown marker " + marker
                    + ": the filesystem is full (" + NO_SPACE + "). Every write it held is on the members, but the"
                    + " array stays marked dirty; free space on that filesystem (df " + path.toAbsolutePath().getParent()
                    + ") and start parityd again: it replays the journal, which holds nothing, and serves", e);
        }
    }

    private static void writeAt(FileChannel c, byte[] content) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(content);
        while (b.hasRemaining()) {
            c.write(b, b.position());
        }
    }

    /** ENOSPC, as the JDK reports it: the kernel's text, in the message or a file system exception's reason. */
    private static boolean noSpace(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String reason = t instanceof FileSystemException f ? f.getReason() : t.getMessage();
            if (reason != null && reason.contains(NO_SPACE)) {
                return true;
            }
        }
        return false;
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
