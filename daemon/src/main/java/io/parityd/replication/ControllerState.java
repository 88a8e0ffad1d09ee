package io.parityd.replication;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a controller must remember across restarts beside its journal: the highest array epoch at
 * which its journal held every write ("in sync"). The front promotes only a controller in sync
 * at the array's current epoch (the one in the superblocks); a controller that ran behind, or
 * whose peer went on alone at a higher epoch, is outdated until it copies the primary's journal
 * again (DESIGN.md "Failover and fencing").
 *
 * <p>Kept in {@code <journal>.state}, a few lines of text with a CRC32C, replaced atomically
 * (write a temporary file, fdatasync it, rename, fsync the directory). Anything unreadable,
 * damaged, or of another array or controller reads as epoch 0, "in sync at no epoch": that can
 * only stop this controller from being promoted, never let it be promoted wrongly.
 */
public final class ControllerState {

    private static final Logger log = LoggerFactory.getLogger(ControllerState.class);

    private final Path file;
    private final UUID array;
    private final String controller;
    private long inSyncEpoch;

    private ControllerState(Path file, UUID array, String controller, long inSyncEpoch) {
        this.file = file;
        this.array = array;
        this.controller = controller;
        this.inSyncEpoch = inSyncEpoch;
    }

    /** The state beside {@code journal}; epoch 0 if there is none or it cannot be trusted (logged). */
    public static ControllerState load(Path journal, UUID array, String controller) throws IOException {
        Path file = journal.resolveSibling(journal.getFileName() + ".state");
        long epoch = 0;
        try {
            epoch = parse(Files.readString(file, StandardCharsets.UTF_8), array, controller, file);
        } catch (NoSuchFileException e) {
            log.info("controller {}: no state file {} yet: in sync at no epoch until it copies a primary's journal",
                    controller, file);
        }
        return new ControllerState(file, array, controller, epoch);
    }

    /** The highest epoch at which this controller's journal held every write; 0 if none. */
    public synchronized long inSyncEpoch() {
        return inSyncEpoch;
    }

    /**
     * Durably records {@code epoch} as the one this controller is in sync at; 0 records "behind"
     * (done before a standby drops its journal to copy the primary's, so a crash in the middle
     * never leaves it looking current).
     */
    public synchronized void inSyncAt(long epoch) throws IOException {
        String body = "array=" + array + "\ncontroller=" + controller + "\nin-sync-epoch=" + epoch + "\n";
        String text = "# parityd controller state; written by parityd, do not edit\n" + body + "crc32c="
                + Long.toHexString(crc(body)) + "\n";
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        // Owner-only, as every file parityd makes; an operator's own mode on an existing file is kept.
        java.util.Set<java.nio.file.attribute.PosixFilePermission> mode = Files.exists(file)
                ? Files.getPosixFilePermissions(file) : java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");
        Files.deleteIfExists(temp);
        try (FileChannel c = FileChannel.open(temp, java.util.Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(mode))) {
            c.write(StandardCharsets.UTF_8.encode(text));
            c.force(true);
        }
        try {
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot replace " + file + " atomically: " + e.getMessage(), e);
        }
        try (FileChannel dir = FileChannel.open(file.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
        inSyncEpoch = epoch;
    }

    private static long parse(String text, UUID array, String controller, Path file) {
        String body = "";
        String crcLine = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            if (line.startsWith("crc32c=")) {
                crcLine = line.substring("crc32c=".length()).trim();
            } else {
                body += line + "\n";
            }
        }
        if (crcLine == null || !crcLine.equals(Long.toHexString(crc(body)))) {
            log.warn("controller {}: state file {} is damaged (checksum); treating this controller as behind",
                    controller, file);
            return 0;
        }
        String expectArray = "array=" + array + "\n";
        String expectController = "controller=" + controller + "\n";
        if (!body.contains(expectArray) || !body.contains(expectController)) {
            log.warn("controller {}: state file {} belongs to another array or controller; treating this controller"
                    + " as behind", controller, file);
            return 0;
        }
        for (String line : body.split("\n")) {
            if (line.startsWith("in-sync-epoch=")) {
                try {
                    return Long.parseLong(line.substring("in-sync-epoch=".length()).trim());
                } catch (NumberFormatException e) {
                    break;
                }
            }
        }
        log.warn("controller {}: state file {} holds no epoch; treating this controller as behind", controller, file);
        return 0;
    }

    private static long crc(String body) {
        CRC32C c = new CRC32C();
        c.update(body.getBytes(StandardCharsets.UTF_8));
        return c.getValue();
    }
}
