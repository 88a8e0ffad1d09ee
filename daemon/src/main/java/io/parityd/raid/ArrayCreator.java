package io.parityd.raid;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * {@code parityd create}: turns a list of member files (and hot spares) into a new RAID-0, 1, 4,
 * 5 or 6 array (DESIGN.md, "RAID"). It validates, then executes: every check runs before the first byte is written, so a
 * refusal leaves every member as it was and no new file behind.
 *
 * <p>Executing opens the existing members, creates the missing ones as sparse files, makes the
 * data area of existing members read as zeroes, and last writes the superblock pair to each
 * member twice: first marked CREATING on every member, then final (both generation 1, epoch 1,
 * CLEAN; {@link SuperblockRecord#AGE} orders them). An interruption at any point leaves either no new array, or one that says
 * it was interrupted ({@link SuperblockRecord#FLAG_CREATING}: {@code serve} refuses it and
 * {@code create} overwrites it without {@code --force}), or a whole array; never a half array a
 * degraded start would accept. A failure with an error (not a kill) erases what it stamped.
 *
 * <p>Why zero: a new array must have consistent redundancy (parity of zeroes is zero, and
 * mirrors of zeroes agree), and a new volume should read as zeroes. New
 * sparse files already read as zeroes; existing files get a hole punched over the data area
 * (cheap on any Linux filesystem) or, where punching is unsupported, zeroes written. A later
 * {@code --assume-clean} could skip that for members the operator knows are zero.
 */
public final class ArrayCreator {

    /** Levels this parityd creates and serves. */
    static final java.util.Set<Integer> SUPPORTED_LEVELS = java.util.Set.of(0, 1, 4, 5, 6);

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private final Clock clock;

    /** @param clock stamps the superblocks' created/updated times */
    public ArrayCreator(Clock clock) {
        this.clock = clock;
    }

    /**
     * Creates the array, or refuses with an {@link ArrayException} naming the problem and the fix.
     * On refusal nothing changed; on a failure while writing, the message says what may have.
     */
    public CreateResult create(CreateSpec spec) throws ArrayException {
        Plan plan = validate(spec);
        return execute(plan);
    }

    /** Everything execution needs, decided before anything is written. */
    private record Plan(CreateSpec spec, List<MemberCandidates.Candidate> members, long memberDataSize, List<String> warnings) {
    }

    private Plan validate(CreateSpec spec) throws ArrayException {
        checkName(spec.name());
        checkLevel(spec.level());
        checkChunk(spec.chunkSize());
        checkMemberCount(spec.level(), spec.members(), spec.spares());
        if (spec.memberSize().isPresent() && spec.memberSize().getAsLong() <= 0) {
            throw new ArrayException("--size " + spec.memberSize().getAsLong() + " is not a size",
                    "give the size of new member files in bytes, e.g. --size 1073741824");
        }
        List<MemberCandidates.Candidate> members = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        List<Path> all = new ArrayList<>(spec.members());
        all.addAll(spec.spares());
        for (int row = 0; row < all.size(); row++) {
            members.add(MemberCandidates.inspect(row, all.get(row), spec, warnings));
        }
        MemberCandidates.checkDistinct(members);
        for (MemberCandidates.Candidate member : members) {
            if (member.exists()) {
                MemberCandidates.checkNotInUse(member.path(), spec.force(), warnings);
            }
        }
        long memberDataSize = checkSizes(members.subList(0, spec.members().size()), spec, warnings);
        checkSpareSizes(members.subList(spec.members().size(), members.size()), memberDataSize);
        return new Plan(spec, members, memberDataSize, warnings);
    }

    private static void checkName(String name) throws ArrayException {
        if (!NAME.matcher(name).matches()) {
            throw new ArrayException("array name '" + name + "' is not valid (it becomes the NBD export name)",
                    "use 1-64 characters from A-Z a-z 0-9 . _ -");
        }
    }

    private static void checkLevel(int level) throws ArrayException {
        if (!SUPPORTED_LEVELS.contains(level)) {
            throw new ArrayException("RAID-" + level + " is not a RAID level parityd knows",
                    "use --level 0, 1, 4, 5 or 6");
        }
    }

    /** Fewest members each level needs: striping needs two, parity one more, double parity two more. */
    static int minMembers(int level) {
        return switch (level) {
            case 0, 1 -> 2;
            case 6 -> 4;
            default -> 3;
        };
    }

    private static void checkChunk(int chunk) throws ArrayException {
        if (chunk < ArrayGeometry.MIN_CHUNK || Integer.bitCount(chunk) != 1) {
            throw new ArrayException("chunk size " + chunk + " is not a power of two of at least 4 KiB",
                    "give --chunk as a power of two of at least 4096 bytes, such as 65536 or 524288");
        }
    }

    private static void checkMemberCount(int level, List<Path> members, List<Path> spares) throws ArrayException {
        String listed = members.stream().map(Path::toString).collect(Collectors.joining(", "));
        int min = minMembers(level);
        if (members.size() < min) {
            throw new ArrayException("RAID-" + level + " needs at least " + min + " members, got " + members.size()
                    + (members.isEmpty() ? "" : ": " + listed), "list at least " + words(min) + " member files");
        }
        if (members.size() + spares.size() > ArrayGeometry.MAX_MEMBERS) {
            throw new ArrayException("an array takes at most " + ArrayGeometry.MAX_MEMBERS + " members and spares, got "
                    + (members.size() + spares.size()), "list at most " + ArrayGeometry.MAX_MEMBERS + " files");
        }
    }

    private static String words(int n) {
        return switch (n) {
            case 2 -> "two";
            case 3 -> "three";
            case 4 -> "four";
            default -> Integer.toString(n);
        };
    }

    /** A spare must be able to take any member's place. */
    private static void checkSpareSizes(List<MemberCandidates.Candidate> spares, long memberDataSize) throws ArrayException {
        long needed = Superblock.DATA_OFFSET + memberDataSize;
        for (MemberCandidates.Candidate spare : spares) {
            if (spare.size() < needed) {
                throw new ArrayException("spare " + spare.path() + " is " + ByteSize.describe(spare.size())
                        + " but each member of this array uses " + ByteSize.describe(needed),
                        "use a spare at least as large as the members");
            }
        }
    }

    /** Sizes every member, refuses one too small, and returns the data bytes used on each. */
    private static long checkSizes(List<MemberCandidates.Candidate> members, CreateSpec spec, List<String> warnings)
            throws ArrayException {
        long chunk = spec.chunkSize();
        long needed = Superblock.DATA_OFFSET + chunk * members.size();
        MemberCandidates.Candidate smallest = members.get(0);
        for (MemberCandidates.Candidate member : members) {
            if (member.size() < needed) {
                String why = "a " + members.size() + "-member array with " + ByteSize.describe(chunk)
                        + " chunks needs at least " + ByteSize.describe(needed) + " per member"
                        + " (1 MiB of metadata, then one chunk per member)";
                throw member.exists()
                        ? new ArrayException(member.path() + " is " + ByteSize.describe(member.size())
                                + ", too small: " + why, "use a bigger file or a smaller --chunk")
                        : new ArrayException("--size " + ByteSize.describe(member.size()) + " is too small for "
                                + member.path() + ": " + why, "give --size of at least " + needed);
            }
            if (member.size() < smallest.size()) {
                smallest = member;
            }
        }
        warnUnused(members, smallest, warnings);
        return (smallest.size() - Superblock.DATA_OFFSET) / chunk * chunk;
    }

    private static void warnUnused(List<MemberCandidates.Candidate> members, MemberCandidates.Candidate smallest, List<String> warnings) {
        List<String> unused = new ArrayList<>();
        for (MemberCandidates.Candidate member : members) {
            if (member.size() > smallest.size()) {
                unused.add(member.path() + " leaves " + ByteSize.describe(member.size() - smallest.size()) + " unused");
            }
        }
        if (!unused.isEmpty()) {
            warnings.add("members differ in size; every member uses as much as the smallest, " + smallest.path()
                    + " (" + ByteSize.describe(smallest.size()) + "): " + String.join(", ", unused));
        }
    }

    private CreateResult execute(Plan plan) throws ArrayException {
        CreateSpec spec = plan.spec();
        int memberCount = spec.members().size();
        ArrayGeometry geometry = new ArrayGeometry(UUID.randomUUID(), spec.name(), spec.level(), spec.chunkSize(),
                memberCount, Superblock.DATA_OFFSET, plan.memberDataSize());
        List<UUID> uuids = new ArrayList<>();
        List<MemberEntry> table = new ArrayList<>();
        for (int row = 0; row < plan.members().size(); row++) {
            uuids.add(UUID.randomUUID());
            table.add(row < memberCount ? MemberEntry.active(uuids.get(row)) : MemberEntry.spare(uuids.get(row)));
        }
        Instant now = clock.instant();
        List<String> warnings = new ArrayList<>(plan.warnings());
        NewMembers writer = new NewMembers(plan.members().size());
        try {
            openAll(plan, writer);
            boolean zeroed = zeroExisting(plan, writer, memberCount, warnings);
            SuperblockRecord stamped = new SuperblockRecord(1, geometry, uuids.get(0), 0, 1, now, now,
                    (zeroed ? SuperblockRecord.FLAG_CLEAN : 0) | SuperblockRecord.FLAG_CREATING, table);
            // Two passes, so no interruption (kill -9, power) leaves a half array: until the first
            // pass has stamped every member, each stamped one says CREATING and serve refuses it as
            // an interrupted create; once the second pass has begun, every member holds the array.
            for (int row = 0; row < plan.members().size(); row++) {
                writer.writeSuperblocks(row, stamped.forSlot(row));
            }
            SuperblockRecord created = stamped.withCreating(false);
            for (int row = 0; row < plan.members().size(); row++) {
                writer.writeSuperblocks(row, created.forSlot(row));
            }
            writer.complete();
        } catch (IOException e) {
            writer.unstamp(e); // while the members are still open
            throw closedAfterFailure(writer, spec.name(), e);
        } catch (RuntimeException | Error e) {
            closedAfterFailure(writer, spec.name(), new IOException(e));
            throw e;
        }
        try {
            writer.close();
        } catch (IOException e) {
            throw writer.failed(spec.name(), e);
        }
        return new CreateResult(geometry, spec.members(), uuids.subList(0, memberCount), warnings);
    }

    /** Closes the members after a failure (keeping close errors as suppressed) and builds the message. */
    private static ArrayException closedAfterFailure(NewMembers writer, String name, IOException cause) {
        try {
            writer.close();
        } catch (IOException closing) {
            cause.addSuppressed(closing);
        }
        return writer.failed(name, cause);
    }

    /**
     * Makes the data area of every existing member read as zeroes, if every one of them can do so
     * quickly (hole punching, discard that zeroes, write-zeroes offload); then the array starts
     * clean and reads as zeroes. If one cannot, none is zeroed and the array starts dirty, so its
     * first serve computes redundancy from whatever is there in the background — md's initial
     * resync — instead of create writing every byte of every disk.
     */
    private static boolean zeroExisting(Plan plan, NewMembers writer, int memberCount, List<String> warnings)
            throws IOException {
        long length = Superblock.DATA_OFFSET + plan.memberDataSize();
        List<Path> slow = new ArrayList<>();
        for (int slot = 0; slot < memberCount; slot++) {
            if (plan.members().get(slot).exists() && !writer.zeroesFast(slot, length)) {
                slow.add(plan.members().get(slot).path());
            }
        }
        if (!slow.isEmpty()) {
            warnings.add(slow + " cannot be zeroed quickly (no write-zeroes or discard offload), so the array is"
                    + " created dirty: its first serve resyncs redundancy in the background, and the volume does not"
                    + " read as zeroes");
            return false;
        }
        for (int slot = 0; slot < memberCount; slot++) {
            if (plan.members().get(slot).exists()) {
                writer.zero(slot, length);
            }
        }
        return true;
    }

    /** Opens existing members before creating new ones, so a refusal to open changes nothing. */
    private static void openAll(Plan plan, NewMembers writer) throws IOException {
        for (MemberCandidates.Candidate member : plan.members()) {
            if (member.exists()) {
                writer.open(member.slot(), member.path());
            }
        }
        for (MemberCandidates.Candidate member : plan.members()) {
            if (!member.exists()) {
                writer.create(member.slot(), member.path(), member.size());
            }
        }
    }

    /** The OS's reason without the path the caller's message already names. */
    static String reason(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) {
            return fse.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
