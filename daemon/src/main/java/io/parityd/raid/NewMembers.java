package io.parityd.raid;

import io.parityd.block.IoFailures;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.parityd.block.BlockDevice;
import io.parityd.member.FileMember;
import io.parityd.member.Members;

/**
 * The members one {@link ArrayCreator#create} is initializing: it opens or creates them, zeroes
 * and stamps them, remembers which files it created and what it has changed, so a failure can
 * remove the new files and tell the operator what state the others are in.
 */
final class NewMembers implements Closeable {

    private final BlockDevice[] members;
    private final Path[] paths;
    private final List<Path> created = new ArrayList<>();
    /** Rows whose superblocks this create has written (or begun to). */
    private final boolean[] stamped;
    /** The member being worked on, named when something fails. */
    private Path current;
    private boolean changedExisting;
    private boolean complete;

    NewMembers(int count) {
        members = new BlockDevice[count];
        paths = new Path[count];
        stamped = new boolean[count];
    }

    void open(int slot, Path path) throws IOException {
        current = path;
        members[slot] = Members.open(path, false);
        paths[slot] = path;
    }

    void create(int slot, Path path, long size) throws IOException {
        current = path;
        members[slot] = FileMember.createSparse(path, size);
        paths[slot] = path;
        created.add(path);
    }

    /** True if the member can make {@code [0, length)} read as zeroes without writing it all. */
    boolean zeroesFast(int slot, long length) {
        BlockDevice member = members[slot];
        return member.zeroesFast(0, Math.min(length, member.size()), true);
    }

    /** Makes {@code [0, length)} of an existing member read as zeroes, durably. */
    void zero(int slot, long length) throws IOException {
        BlockDevice member = members[slot];
        current = paths[slot];
        changedExisting = true;
        member.writeZeroes(0, Math.min(length, member.size()), true, false);
        member.flush();
    }

    void writeSuperblocks(int slot, SuperblockRecord record) throws IOException {
        BlockDevice member = members[slot];
        current = paths[slot];
        changedExisting |= !created.contains(paths[slot]);
        stamped[slot] = true;
        Superblock.writeBoth(member, record);
    }

    /**
     * After a failure short of {@link #complete()}: erases the superblocks this create wrote, best
     * effort, so an existing member is left blank rather than holding part of an array (a member
     * this leaves stamped says CREATING, which serve refuses). Errors join {@code cause}.
     */
    void unstamp(IOException cause) {
        if (complete) {
            return;
        }
        for (int row = 0; row < members.length; row++) {
            if (stamped[row] && members[row] != null && !created.contains(paths[row])) {
                try {
                    Superblock.erase(members[row]);
                } catch (IOException e) {
                    cause.addSuppressed(e);
                }
            }
        }
    }

    /** Every member has its superblocks: from here on a failure must not remove anything. */
    void complete() {
        complete = true;
    }

    /** Closes every member in reverse order, keeping the first failure and suppressing the rest. */
    @Override
    public void close() throws IOException {
        IoFailures failures = new IoFailures();
        for (int i = members.length - 1; i >= 0; i--) {
            if (members[i] == null) {
                continue;
            }
            try {
                members[i].close();
            } catch (IOException e) {
                if (complete && !failures.any()) {
                    current = paths[i]; // otherwise keep naming the member that failed first
                }
                failures.add(e);
            }
        }
        failures.throwIfAny();
    }

    /**
     * Turns a failure into the operator's message, after removing the files this create made
     * (unless the array was complete: then they hold it). Call after {@link #close()}.
     */
    ArrayException failed(String arrayName, IOException cause) {
        String problem = "creating array '" + arrayName + "' failed on " + current + ": " + ArrayCreator.reason(cause);
        if (complete) {
            return new ArrayException(problem, "the array was written to every member; check that filesystem"
                    + " before serving it", cause);
        }
        for (Path path : created) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                cause.addSuppressed(e);
            }
        }
        String fix = changedExisting
                ? "new member files were removed, but existing members were partly overwritten; fix the cause"
                        + " and run create again with --force"
                : "nothing was changed; fix the cause and run create again";
        return new ArrayException(problem, fix, cause);
    }
}
