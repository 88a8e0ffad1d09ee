package io.parityd.raid;

import io.parityd.block.BlockDevice;
import io.parityd.block.IoFailures;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An array {@link ArrayAssembler} opened: its geometry, the member table (the array's truth about
 * every slot and spare), the devices that are present, and the one way its superblocks change.
 * It owns the devices and closes them.
 *
 * <p>Every change (dirty/clean, a member failing, a rebuild starting, moving or finishing, a
 * spare coming or going) is a new generation of the table written to every member that is still
 * trusted: active and rebuilding members and spares. A faulty or missing member is never written,
 * so on the next start it cannot pass for current. If writing a superblock fails, that member has
 * failed too: it is marked faulty in the table, the {@linkplain #onWriteFailure hook} hears of it
 * (the service fails it in the volume), and the table is written again to the others.
 *
 * <p>The CLEAN flag follows md's dirty/clean protocol: {@link #markDirty()} before the first
 * write, {@link #markClean()} after the last one has been flushed.
 *
 * <p><b>Journal identity.</b> A run that writes through a write journal says so with
 * {@link #markDirty(UUID)}: every member then records JOURNALED and the journal's UUID, so that
 * after an unclean stop the next start knows ({@link #journalUuid()}) which journal holds writes
 * the members may lack, and can refuse to start without it. The superblocks stop naming a journal
 * only once the members hold everything it did: {@link #markClean()} flushes the members, then
 * clears the identity with the dirty bit (after a clean stop it is irrelevant), and a
 * {@code markDirty} that names another journal, or none, flushes the members first too. Replaying
 * the journal an unclean stop left before naming another is the caller's part. After a crash
 * during one of these updates the newest generation's identity is the array's, like its table;
 * the flush before forgetting a journal is what makes that safe.
 *
 * <p>Thread safety: every method that reads or changes the table is synchronized.
 */
public final class AssembledArray implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(AssembledArray.class);

    /** A hot spare: its row in the table (past the slots), its path and its open device. */
    public record Spare(UUID uuid, Path path, BlockDevice device) {
    }

    private final ArrayGeometry geometry;
    private final Clock clock;
    private final boolean shutDownCleanly;
    /** The journal the newest superblock named at assembly: the last run's. */
    private final Optional<UUID> lastRunJournal;
    /** By slot: the open device, or null when absent or faulty (never used then). */
    private final BlockDevice[] devices;
    private final Path[] paths;
    private final String[] reasons;
    private final List<Spare> spares = new ArrayList<>();
    private List<MemberEntry> table;
    /** The newest record, as slot 0 would hold it: template for every write. */
    private SuperblockRecord newest;
    /** Written under this object's lock; volatile so {@link #generation()} needs none. */
    private volatile long generation;
    private boolean clean;
    /** The journal this run's superblocks name; empty while clean or running without one. */
    private Optional<UUID> journal;

    /** Whether {@link #journal} holds commands only: recorded for {@code examine}. */
    private boolean commandJournal;
    private IntConsumer writeFailureHook = slot -> { };

    AssembledArray(ArrayGeometry geometry, SuperblockRecord newest, BlockDevice[] devices, Path[] paths,
                   String[] reasons, List<MemberEntry> table, List<Spare> spares, boolean shutDownCleanly,
                   Clock clock) {
        this.geometry = geometry;
        this.newest = newest.forSlot(0).withCreating(false); // the assembler refuses an all-CREATING array
        this.generation = newest.generation();
        this.devices = devices.clone();
        this.paths = paths.clone();
        this.reasons = reasons.clone();
        this.table = List.copyOf(table);
        this.spares.addAll(spares);
        this.shutDownCleanly = shutDownCleanly;
        this.clean = newest.clean();
        this.lastRunJournal = newest.journalUuid();
        this.journal = newest.journalUuid();
        this.clock = clock;
    }

    public ArrayGeometry geometry() {
        return geometry;
    }

    /** True if every member that was present had CLEAN set when the array was assembled. */
    public boolean shutDownCleanly() {
        return shutDownCleanly;
    }

    /** The superblock generation last written (or assembled): what a member that leaves now last took part in. */
    public long generation() {
        return generation;
    }

    /** Devices by slot; null where a slot's member is missing or faulty. */
    public synchronized List<BlockDevice> devices() {
        return Arrays.asList(devices.clone());
    }

    /** Member paths by slot, as given to serve; null where none is known. */
    public synchronized List<Path> memberPaths() {
        return Arrays.asList(paths.clone());
    }

    /** What the table says of each slot: ACTIVE, FAULTY, MISSING or REBUILDING. */
    public synchronized List<MemberState> states() {
        return table.subList(0, geometry.memberCount()).stream().map(MemberEntry::state).toList();
    }

    /** Rebuild positions (stripes) by slot; meaningful for REBUILDING slots. */
    public synchronized long[] rebuildPositions() {
        long[] positions = new long[geometry.memberCount()];
        for (int slot = 0; slot < positions.length; slot++) {
            positions[slot] = table.get(slot).rebuildPosition();
        }
        return positions;
    }

    /** Why a slot is missing or faulty, for the operator; null if it is fine. */
    public synchronized String reason(int slot) {
        return reasons[slot];
    }

    public synchronized List<Spare> spares() {
        return List.copyOf(spares);
    }

    /** The array's fencing epoch (DESIGN.md, "Failover and fencing"). */
    public synchronized long epoch() {
        return newest.epoch();
    }

    /** Each slot's and spare's current member table row, for status and tests. */
    public synchronized List<MemberEntry> table() {
        return table;
    }

    /** Told the slot whose superblock could not be written (it is faulty now); the service fails it in the volume. */
    public synchronized void onWriteFailure(IntConsumer hook) {
        this.writeFailureHook = Objects.requireNonNull(hook);
    }

    /**
     * The write journal the array's last run wrote through, as the newest superblock named it at
     * assembly; empty if that run used none or stopped cleanly. If present and the array did not
     * shut down cleanly, that journal must be replayed before the array serves. Not changed by
     * this run's {@link #markDirty(UUID)}.
     */
    public Optional<UUID> journalUuid() {
        return lastRunJournal;
    }

    /** Clears CLEAN everywhere, durably, before the first write, for a run without a journal. */
    public synchronized void markDirty() throws IOException {
        markDirty(null);
    }

    /**
     * Clears CLEAN and records the journal this run writes through everywhere, durably, before
     * the first write: after a crash the array is known dirty and the journal known needed.
     *
     * @param journalOrNull the journal's UUID, or null for a run without one
     */
    public synchronized void markDirty(UUID journalOrNull) throws IOException {
        markDirty(journalOrNull, false);
    }

    /**
     * {@link #markDirty(UUID)}, recording too whether the journal holds each write's command
     * only ({@code --journal commands}) or its data.
     */
    public synchronized void markDirty(UUID journalOrNull, boolean commandsOnly) throws IOException {
        Optional<UUID> next = Optional.ofNullable(journalOrNull);
        commandJournal = next.isPresent() && commandsOnly;
        if (journal.isPresent() && !journal.equals(next)) {
            flushTrusted(); // members must hold what the journal did before the superblocks forget it
        }
        clean = false;
        journal = next;
        rewrite();
    }

    /**
     * Flushes every trusted member, then sets CLEAN and clears the journal identity everywhere,
     * durably. Only once no write is in flight. A member {@linkplain BlockDevice#lost lost} since
     * the volume last looked (its file deleted) is recorded faulty in the same update: declared
     * clean and active, the next start would take its absence for a disk that vanished while down.
     */
    public synchronized void markClean() throws IOException {
        recordLostMembers();
        flushTrusted(); // a member that cannot sync must not be declared consistent
        clean = true;
        journal = Optional.empty();
        commandJournal = false;
        rewrite();
    }

    /**
     * Raises the fencing epoch to {@code next} in every superblock, durably (DESIGN.md "Failover
     * and fencing": a promotion, or a primary going on without its standby). A controller whose
     * journal is in sync only with an older epoch is outdated from then on.
     *
     * @throws IllegalArgumentException if {@code next} is not above the current epoch
     */
    public synchronized void advanceEpoch(long next) throws IOException {
        if (next <= newest.epoch()) {
            throw new IllegalArgumentException("epoch " + next + " is not above the array's epoch " + newest.epoch());
        }
        newest = newest.withEpoch(next);
        rewrite();
    }

    /** Records that {@code slot} failed; it is never written again until replaced. Idempotent. */
    public synchronized void markFaulty(int slot, String reason) throws IOException {
        if (table.get(slot).state() == MemberState.FAULTY) {
            return;
        }
        setRow(slot, table.get(slot).withState(MemberState.FAULTY, 0));
        reasons[slot] = reason;
        log.error("array '{}': slot {} ({}) is faulty: {}", geometry.name(), slot, paths[slot], reason);
        rewrite();
    }

    /**
     * Puts a new device into a faulty or missing slot, as REBUILDING from stripe 0: it gets a fresh
     * member UUID and its superblock pair, and the table moves to it. The slot's old device (if any,
     * and not {@code device} itself) is closed. The caller then starts the volume's rebuild.
     */
    public synchronized void beginRebuild(int slot, Path path, BlockDevice device) throws IOException {
        MemberState state = table.get(slot).state();
        if (state != MemberState.FAULTY && state != MemberState.MISSING) {
            throw new IllegalStateException("slot " + slot + " is " + state + ", not faulty or missing");
        }
        if (devices[slot] != device) { // a re-add brings back the device the slot still holds open
            closeQuietly(devices[slot]);
        }
        setRow(slot, new MemberEntry(UUID.randomUUID(), MemberState.REBUILDING, 0));
        devices[slot] = device;
        paths[slot] = path;
        reasons[slot] = null;
        generation++;
        Superblock.writeBoth(device, record(generation).forSlot(slot));
        rewrite();
    }

    /** Persists a rebuild's progress, so a restart resumes from there. */
    public synchronized void rebuildProgress(int slot, long stripes) throws IOException {
        if (table.get(slot).state() == MemberState.REBUILDING) {
            setRow(slot, table.get(slot).withState(MemberState.REBUILDING, stripes));
            rewrite();
        }
    }

    /** The slot holds current data for every stripe: it is active again. */
    public synchronized void rebuildFinished(int slot) throws IOException {
        setRow(slot, table.get(slot).withState(MemberState.ACTIVE, 0));
        rewrite();
    }

    /** Adds a hot spare: a new table row and the spare's own superblock pair. */
    public synchronized void addSpare(Path path, BlockDevice device) throws IOException {
        if (table.size() >= ArrayGeometry.MAX_MEMBERS) {
            throw new IOException("the member table is full (" + ArrayGeometry.MAX_MEMBERS + " members and spares)");
        }
        UUID uuid = UUID.randomUUID();
        List<MemberEntry> rows = new ArrayList<>(table);
        rows.add(MemberEntry.spare(uuid));
        table = List.copyOf(rows);
        spares.add(new Spare(uuid, path, device));
        generation++;
        Superblock.writeBoth(device, record(generation).forSlot(table.size() - 1));
        rewrite();
    }

    /**
     * Takes a spare out of the table, to be put into a slot with {@link #beginRebuild}; empty if
     * there is none. Its superblock is left as it is: beginRebuild overwrites it.
     */
    public synchronized Optional<Spare> takeSpare() throws IOException {
        if (spares.isEmpty()) {
            return Optional.empty();
        }
        Spare spare = spares.remove(0);
        List<MemberEntry> rows = new ArrayList<>(table);
        rows.removeIf(row -> row.memberUuid().equals(spare.uuid()));
        table = List.copyOf(rows);
        return Optional.of(spare);
    }

    /** Closes every device, slots in reverse order, then spares, keeping every failure. */
    @Override
    public synchronized void close() throws IOException {
        List<BlockDevice> all = new ArrayList<>(Arrays.asList(devices));
        spares.forEach(spare -> all.add(spare.device()));
        IoFailures.closeAll(all);
    }

    @Override
    public String toString() {
        return "AssembledArray['" + geometry.name() + "', " + geometry.arrayUuid() + ", " + devices.length + " slots]";
    }

    /**
     * Marks every trusted member that is lost faulty in the table (written by the caller's next
     * update). The volume is not told: this runs at a stop, when nothing serves any more.
     */
    private void recordLostMembers() {
        for (int slot = 0; slot < devices.length; slot++) {
            if (devices[slot] == null || !trusted(slot)) {
                continue;
            }
            String lost;
            try {
                lost = devices[slot].lost();
            } catch (IOException e) {
                lost = "it cannot be examined: " + e;
            }
            if (lost != null) {
                setRow(slot, table.get(slot).withState(MemberState.FAULTY, 0));
                reasons[slot] = lost;
                log.error("array '{}': slot {} ({}) is faulty: {}", geometry.name(), slot, paths[slot], lost);
            }
        }
    }

    /** Flushes every trusted member; throws (with every failure) if any cannot sync. */
    private void flushTrusted() throws IOException {
        IoFailures failures = new IoFailures();
        for (int slot = 0; slot < devices.length; slot++) {
            if (devices[slot] != null && trusted(slot)) {
                try {
                    devices[slot].flush();
                } catch (IOException e) {
                    failures.add(e);
                }
            }
        }
        failures.throwIfAny();
    }

    private boolean trusted(int slot) {
        MemberState state = table.get(slot).state();
        return state == MemberState.ACTIVE || state == MemberState.REBUILDING;
    }

    private void setRow(int row, MemberEntry entry) {
        List<MemberEntry> rows = new ArrayList<>(table);
        rows.set(row, entry);
        table = List.copyOf(rows);
    }

    private SuperblockRecord record(long gen) {
        SuperblockRecord base = newest.withMembers(table).withClean(clean).withJournal(journal, commandJournal);
        return base.withGeneration(gen, clock.instant());
    }

    /**
     * Writes the current table as a new generation to every trusted member and every spare, each
     * durable before the next (a crash leaves a prefix updated, which assembly's generation rule
     * accepts). A member whose write fails is marked faulty and the table written again; a spare
     * whose write fails is dropped. Throws only if no member at all could be written.
     */
    private void rewrite() throws IOException {
        while (true) {
            generation++;
            SuperblockRecord next = record(generation);
            List<Integer> failedSlots = new ArrayList<>();
            IOException last = null;
            int written = 0;
            for (int slot = 0; slot < devices.length; slot++) {
                if (devices[slot] == null || !trusted(slot)) {
                    continue;
                }
                try {
                    Superblock.write(devices[slot], next.forSlot(slot));
                    written++;
                } catch (IOException e) {
                    last = e;
                    failedSlots.add(slot);
                    log.error("array '{}': cannot write the superblock of slot {} ({}): {}", geometry.name(), slot,
                            paths[slot], e.toString());
                }
            }
            boolean sparesDropped = writeSpares(next);
            newest = next.forSlot(0);
            if (written == 0 && last != null) {
                throw last;
            }
            if (failedSlots.isEmpty() && !sparesDropped) {
                return;
            }
            for (int slot : failedSlots) {
                setRow(slot, table.get(slot).withState(MemberState.FAULTY, 0));
                reasons[slot] = "its superblock could not be written";
                writeFailureHook.accept(slot);
            }
        }
    }

    /** Writes every spare's superblock; true if one had to be dropped (the table changed). */
    private boolean writeSpares(SuperblockRecord next) {
        boolean dropped = false;
        for (Spare spare : List.copyOf(spares)) {
            int row = rowOf(spare.uuid());
            try {
                Superblock.write(spare.device(), next.forSlot(row));
            } catch (IOException e) {
                log.error("array '{}': dropping spare {}: its superblock cannot be written: {}", geometry.name(),
                        spare.path(), e.toString());
                spares.remove(spare);
                List<MemberEntry> rows = new ArrayList<>(table);
                rows.remove(row);
                table = List.copyOf(rows);
                closeQuietly(spare.device());
                dropped = true;
            }
        }
        return dropped;
    }

    private int rowOf(UUID uuid) {
        for (int row = 0; row < table.size(); row++) {
            if (table.get(row).memberUuid().equals(uuid)) {
                return row;
            }
        }
        throw new IllegalStateException("no table row for member " + uuid);
    }

    private static void closeQuietly(BlockDevice device) {
        if (device == null) {
            return;
        }
        try {
            device.close();
        } catch (IOException e) {
            log.warn("closing {} failed: {}", device.describe(), e.toString());
        }
    }
}
