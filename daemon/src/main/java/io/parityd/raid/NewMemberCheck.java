package io.parityd.raid;

import io.parityd.block.BlockDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Decides whether a device may join a running array as a replacement or a hot spare, before
 * anything is written to it: it must exist, be large enough for a member of this array, not
 * already be one of its members or spares (also under another path), and not carry another
 * array's superblock. A former member of this same array is accepted: it is rebuilt in full.
 */
public final class NewMemberCheck {

    private NewMemberCheck() {
    }

    /**
     * Opens {@code path} read-write and checks it, or refuses without changing it.
     *
     * @param role "replacement" or "spare", for the messages
     * @return the open device, which the caller now owns
     */
    public static BlockDevice open(Path path, AssembledArray array, String role) throws ArrayException {
        return open(path, array, role, -1);
    }

    /**
     * As {@link #open(Path, AssembledArray, String)}, but the member {@code slot} itself holds
     * (faulty or missing, and given to serve) may come back to that slot: a re-add, or a replace
     * of a slot with its own former member, which is then rebuilt.
     *
     * @param slot the slot being filled, or -1
     */
    public static BlockDevice open(Path path, AssembledArray array, String role, int slot) throws ArrayException {
        ArrayGeometry g = array.geometry();
        refuseIfInArray(path, array, role, slot);
        BlockDevice device;
        try {
            device = ArrayAssembler.openMember(path);
        } catch (NoSuchFileException e) {
            throw new ArrayException(role + " " + path + " does not exist",
                    "create it first, e.g. truncate -s " + (g.dataOffset() + g.memberDataSize()) + " " + path);
        } catch (IOException e) {
            throw new ArrayException("cannot open " + role + " " + path + ": " + ArrayCreator.reason(e),
                    "check the path and its permissions");
        }
        try {
            check(path, device, g, role);
            return device;
        } catch (ArrayException | RuntimeException e) {
            try {
                device.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    private static void check(Path path, BlockDevice device, ArrayGeometry g, String role) throws ArrayException {
        long needed = g.dataOffset() + g.memberDataSize();
        if (device.size() < needed) {
            throw new ArrayException(role + " " + path + " is too small: " + ByteSize.describe(device.size())
                    + ", but each member of array '" + g.name() + "' uses " + ByteSize.describe(needed),
                    "use a device or file of at least " + needed + " bytes");
        }
        SuperblockRead read;
        try {
            read = Superblock.read(device);
        } catch (IOException e) {
            throw new ArrayException("cannot read " + role + " " + path + ": " + ArrayCreator.reason(e),
                    "check the device; a replacement must be readable and writable");
        }
        if (read.status() == SuperblockRead.Status.NEWER_FORMAT) {
            throw new ArrayException(role + " " + path + " holds a superblock from a newer parityd (format "
                    + read.formatVersion() + ")", "wipe it first if it is really free (wipefs -a, or zero its first MiB)");
        }
        if (read.record().isPresent()) {
            ArrayGeometry theirs = read.record().get().geometry();
            if (!theirs.arrayUuid().equals(g.arrayUuid())) {
                throw new ArrayException(role + " " + path + " belongs to array '" + theirs.name() + "' (uuid "
                        + theirs.arrayUuid() + ")", "use a free device, or wipe that array's member first if it is"
                        + " no longer needed (zero its first MiB)");
            }
        }
    }

    /** Refuses a path that is, or is the same file as, a current member or spare. */
    private static void refuseIfInArray(Path path, AssembledArray array, String role, int slot) throws ArrayException {
        List<Path> current = new ArrayList<>();
        List<Path> paths = array.memberPaths();
        for (int i = 0; i < paths.size(); i++) {
            boolean ownFormer = i == slot && array.states().get(i) != MemberState.ACTIVE;
            if (paths.get(i) != null && !ownFormer) {
                current.add(paths.get(i));
            }
        }
        array.spares().forEach(spare -> current.add(spare.path()));
        Object key = fileKey(path);
        for (Path member : current) {
            if (member.equals(path) || (key != null && Objects.equals(key, fileKey(member)))) {
                throw new ArrayException(role + " " + path + " is already " + (path.equals(member) ? "" : "(as " + member + ") ")
                        + "a member or spare of array '" + array.geometry().name() + "'", "give a new device or file");
            }
        }
    }

    private static Object fileKey(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }
}
