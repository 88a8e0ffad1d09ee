package io.parityd.service;

import io.parityd.admin.ControlException;
import io.parityd.block.BlockDevice;
import io.parityd.member.Members;
import io.parityd.raid.AssembledArray;
import io.parityd.raid.MemberEntry;
import io.parityd.raid.Superblock;
import io.parityd.raid.SuperblockRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A member that dropped out and comes back ({@code re-add}, or {@code replace} with a slot's own
 * former member): which slot it had, from its own superblock, and whether the slot still holds
 * it open. The refusals say what the path is instead.
 */
final class FormerMembers {

    private FormerMembers() {
    }

    /** What {@code path}'s own superblock says, or null if it has none. */
    static SuperblockRecord record(Path path) throws ControlException {
        try (BlockDevice device = Members.open(path, true)) {
            return Superblock.read(device).record().orElse(null);
        } catch (NoSuchFileException e) {
            throw new ControlException(path + " does not exist");
        } catch (IOException e) {
            throw new ControlException("cannot read " + path + ": " + e.getMessage());
        }
    }

    /** The slot whose member {@code path} was, from its superblock {@code theirs}, or a refusal. */
    static int slot(AssembledArray array, Path path, SuperblockRecord theirs) throws ControlException {
        String name = array.geometry().name();
        if (theirs == null || !theirs.geometry().arrayUuid().equals(array.geometry().arrayUuid())) {
            throw new ControlException(path + " holds no superblock of array '" + name + "'" + (theirs == null ? ""
                    : " (it belongs to array '" + theirs.geometry().name() + "')") + ": re-add takes back a former"
                    + " member; give a new device with replace or add-spare instead");
        }
        List<MemberEntry> table = array.table();
        for (int row = 0; row < table.size(); row++) {
            if (table.get(row).memberUuid().equals(theirs.memberUuid())) {
                if (row >= array.geometry().memberCount()) {
                    throw new ControlException(path + " is a hot spare of array '" + name + "' already");
                }
                return row;
            }
        }
        throw new ControlException(path + " was replaced in array '" + name + "' (its member uuid "
                + theirs.memberUuid() + " is no longer in the member table): add it as a spare with add-spare, or"
                + " give it to replace");
    }

    /**
     * The slot's device if it is still open on {@code path}: a member failed while serving stays
     * open (and locked) in its slot, so opening it again would find it in use.
     */
    static BlockDevice stillOpen(AssembledArray array, int slot, Path path) {
        BlockDevice current = array.devices().get(slot);
        try {
            return current != null && Files.isSameFile(path, Path.of(current.describe())) ? current : null;
        } catch (IOException | InvalidPathException e) {
            return null;
        }
    }
}
