package io.parityd.raid;

import static io.parityd.raid.ArrayCreator.reason;

import io.parityd.block.BlockDevice;
import io.parityd.member.Members;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The paths {@code parityd create} is given, checked one by one without touching them: that each
 * can be used as it is (a regular file or a block device, readable and writable, not holding
 * another array unless forced) or created (its directory exists and is writable, and a size was
 * given), and that no file appears twice under two spellings.
 */
final class MemberCandidates {

    private MemberCandidates() {
    }

    /** One member as validation found it; {@code size} is the file's or the one to create. */
    record Candidate(int slot, Path path, boolean exists, long size) {
    }

    private static final String OVERWRITE_FIX = "pass --force to overwrite it (this destroys what is on it),"
            + " or choose another file";

    /** Checks a member can be used as it is or created, without touching it. */
    static Candidate inspect(int slot, Path path, CreateSpec spec, List<String> warnings)
            throws ArrayException {
        if (!Files.exists(path)) {
            return inspectNew(slot, path, spec);
        }
        BasicFileAttributes attributes = attributes(path);
        if (attributes.isDirectory()) {
            throw new ArrayException(path + " is a directory", "give the path of a member file or block device");
        }
        boolean blockDevice = isBlockDevice(path);
        if (!attributes.isRegularFile() && !blockDevice) {
            throw new ArrayException(path + " is neither a regular file nor a block device",
                    "give the path of a member file or block device");
        }
        if (!Files.isReadable(path) || !Files.isWritable(path)) {
            throw new ArrayException("cannot use " + path + ": permission denied (a member must be readable"
                    + " and writable)", "fix its permissions or run parityd as a user that may write it");
        }
        long size = blockDevice ? deviceSize(path) : attributes.size();
        if (spec.memberSize().isPresent() && spec.memberSize().getAsLong() != size) {
            warnings.add(path + " already exists with " + ByteSize.describe(size) + "; --size applies only"
                    + " to members that do not exist yet, so it is used as it is");
        }
        return new Candidate(slot, path, true, size);
    }

    private static Candidate inspectNew(int slot, Path path, CreateSpec spec) throws ArrayException {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new ArrayException(path + " is a symbolic link to a file that does not exist",
                    "fix the link, or give the path of the file itself");
        }
        Path parent = path.toAbsolutePath().getParent();
        if (!Files.isDirectory(parent)) {
            throw new ArrayException("cannot create " + path + ": its directory " + parent + " does not exist",
                    "create the directory first, or give another path");
        }
        if (!Files.isWritable(parent)) {
            throw new ArrayException("cannot create " + path + ": permission denied in directory " + parent,
                    "fix the directory's permissions, or give another path");
        }
        if (spec.memberSize().isEmpty()) {
            throw new ArrayException(path + " does not exist", "give --size to create it as a sparse file");
        }
        return new Candidate(slot, path, false, spec.memberSize().getAsLong());
    }

    /**
     * Refuses one file listed twice, however it is spelled: existing files are compared by
     * device and inode (catching symlinks and hard links), new ones by their directory's real path.
     */
    static void checkDistinct(List<Candidate> members) throws ArrayException {
        Map<Object, Candidate> seen = new HashMap<>();
        for (Candidate member : members) {
            Object identity = identity(member);
            Candidate earlier = seen.putIfAbsent(identity, member);
            if (earlier != null) {
                String spelling = earlier.path().equals(member.path()) ? member.path() + " is listed twice"
                        : earlier.path() + " and " + member.path() + " are the same file";
                throw new ArrayException(spelling + " (members " + (earlier.slot() + 1) + " and "
                        + (member.slot() + 1) + ")", "list each member file once");
            }
        }
    }

    private static Object identity(Candidate member) throws ArrayException {
        try {
            if (member.exists()) {
                Object key = attributes(member.path()).fileKey();
                return key != null ? key : member.path().toRealPath();
            }
            Path absolute = member.path().toAbsolutePath();
            return absolute.getParent().toRealPath().resolve(absolute.getFileName());
        } catch (IOException e) {
            throw new ArrayException("cannot examine " + member.path() + ": " + reason(e), "check the path");
        }
    }

    /** Refuses a file that already holds a parityd superblock, unless forced (then warns). */
    static void checkNotInUse(Path path, boolean force, List<String> warnings) throws ArrayException {
        SuperblockRead read;
        try (BlockDevice member = Members.open(path, true)) {
            read = Superblock.read(member);
        } catch (IOException e) {
            throw new ArrayException("cannot read " + path + ": " + reason(e), "check the file and its permissions");
        }
        String held = describeSuperblock(read);
        if (held == null) {
            return;
        }
        if (read.record().map(SuperblockRecord::creating).orElse(false)) {
            // An interrupted create's first pass: no data was ever written to that array.
            warnings.add("overwrote " + path + ", which held " + held + " from a create that was interrupted");
            return;
        }
        if (!force) {
            String refusal = read.status() == SuperblockRead.Status.OK
                    ? path + " already belongs to " + held
                    : path + " holds " + held + " and may belong to an array";
            throw new ArrayException(refusal, OVERWRITE_FIX);
        }
        warnings.add("--force: overwrote " + path + ", which held " + held);
    }

    /** What a superblock says in a few words, or null if there is none. */
    private static String describeSuperblock(SuperblockRead read) {
        switch (read.status()) {
            case OK: {
                SuperblockRecord record = read.record().orElseThrow();
                return "array '" + record.geometry().name() + "' (uuid " + record.geometry().arrayUuid()
                        + ") as slot " + record.slot();
            }
            case DAMAGED:
                return "a damaged parityd superblock (" + read.detail() + ")";
            case NEWER_FORMAT:
                return "a format-" + read.formatVersion() + " superblock from a newer parityd";
            default:
                return null;
        }
    }

    private static boolean isBlockDevice(Path path) throws ArrayException {
        try {
            return Members.isBlockDevice(path);
        } catch (IOException e) {
            throw new ArrayException("cannot examine " + path + ": " + reason(e), "check the path and its permissions");
        }
    }

    private static long deviceSize(Path path) throws ArrayException {
        try {
            return Members.sizeOf(path);
        } catch (IOException e) {
            throw new ArrayException("cannot read the size of " + path + ": " + reason(e), "check the device");
        }
    }

    private static BasicFileAttributes attributes(Path path) throws ArrayException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new ArrayException("cannot examine " + path + ": " + reason(e), "check the path and its permissions");
        }
    }
}
