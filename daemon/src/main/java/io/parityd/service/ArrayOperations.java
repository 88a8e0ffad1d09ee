package io.parityd.service;

import io.parityd.controller.RecoveryReport;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalStats;
import io.parityd.admin.ArrayControl;
import io.parityd.admin.ArrayStatus;
import io.parityd.admin.ControlException;
import io.parityd.block.BlockDevice;
import io.parityd.raid.ArrayException;
import io.parityd.raid.ArrayGeometry;
import io.parityd.raid.AssembledArray;
import io.parityd.raid.MemberState;
import io.parityd.raid.NewMemberCheck;
import io.parityd.raid.RaidVolume;
import io.parityd.raid.SlotListener;
import io.parityd.raid.SlotView;
import io.parityd.raid.SuperblockRecord;
import io.parityd.raid.WriteIntent;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running array's operator side: what the admin socket may ask ({@link ArrayControl}) and what
 * the volume reports ({@link SlotListener}), joined to the superblocks ({@link AssembledArray}).
 * Every slot change is made durable before it is acted on: a failed member is marked faulty in the
 * other members' superblocks, a rebuild's progress is persisted so a restart resumes it, and a hot
 * spare takes a failed slot's place on its own.
 *
 * <p>Threads: slot events arrive on I/O threads (which may hold stripe locks), so anything that
 * would call back into the volume (starting a rebuild onto a spare) is handed to a single
 * background thread; admin requests arrive on the admin server's executor.
 */
final class ArrayOperations implements ArrayControl, SlotListener {

    private static final Logger log = LoggerFactory.getLogger(ArrayOperations.class);

    private final AssembledArray array;
    private volatile String export;
    private volatile io.parityd.protocol.PayloadBudget requestMemory;
    private final ExecutorService background;
    private final ConcurrentHashMap<Integer, RateMeter> rebuildRates = new ConcurrentHashMap<>();
    /** Why each slot's last rebuild stopped, until one starts again: what status says of the slot. */
    private final ConcurrentHashMap<Integer, String> rebuildsStopped = new ConcurrentHashMap<>();
    private RaidVolume volume;
    private volatile ScrubTask scrub;
    private volatile RecoveryReport recovery = RecoveryReport.NOTHING;
    private volatile io.parityd.metrics.ArrayEvents events = io.parityd.metrics.ArrayEvents.NONE;

    ArrayOperations(AssembledArray array) {
        this.array = array;
        this.background = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "parityd-operations");
            t.setDaemon(true);
            return t;
        });
    }

    /** Binds the volume once it exists (it needs this object as its listener first). */
    void attach(RaidVolume raidVolume) {
        this.volume = raidVolume;
        array.onWriteFailure(slot -> raidVolume.fail(slot, new IOException("its superblock could not be written")));
        // Before any recovery writes: what a member away from a degraded array misses is marked.
        raidVolume.recordWritesWhileDegraded(WriteIntent.load(array.geometry(), array.devices(), array::generation));
    }

    private volatile Journal journal;
    private volatile boolean journalNonVolatile;

    /** The journal this run writes through, for status; none under --journal off. */
    void journal(Journal journal, boolean nonVolatile) {
        this.journal = journal;
        this.journalNonVolatile = nonVolatile;
    }

    private ArrayStatus.JournalStatus journalStatus() {
        Journal j = journal;
        if (j == null) {
            return null;
        }
        JournalStats st = j.stats();
        RecoveryReport r = recovery;
        return new ArrayStatus.JournalStatus(j.path().toString(), journalNonVolatile, st.capacityBytes(), st.usedBytes(),
                st.records(), st.waiting(), st.syncs(), r.requestsReplayed(), r.recordsDropped(), r.stripesResynced(),
                r.millis(), st.mode().word(), st.marks(), st.writes(), st.writesWaited());
    }

    /** What the journal replay at this start did, for status and metrics. */
    void recovered(RecoveryReport report) {
        this.recovery = report;
        events.mismatchesFound(report.mismatchesRepaired());
    }

    /** Where member failures and mismatches are counted (metrics), from now on. */
    void events(io.parityd.metrics.ArrayEvents counters) {
        this.events = counters;
    }

    io.parityd.metrics.ArrayEvents events() {
        return events;
    }

    /** What the journal replay at this start did ({@link RecoveryReport#NOTHING} if none ran). */
    public RecoveryReport recovery() {
        return recovery;
    }

    /** Where clients connect, and the memory their requests share, for status; known once the NBD server listens. */
    void export(String uri, io.parityd.protocol.PayloadBudget memory) {
        this.export = uri;
        this.requestMemory = memory;
    }

    /** At start, before serving: says which rebuilds the volume resumed from the superblocks. */
    void reportResumedRebuilds() {
        long[] positions = array.rebuildPositions();
        for (SlotView slot : volume.slots()) {
            if (slot.state() == MemberState.REBUILDING) {
                log.info("array '{}': resuming the rebuild of slot {} ({}) at stripe {} of {}", name(), slot.slot(),
                        array.memberPaths().get(slot.slot()), positions[slot.slot()], array.geometry().stripes());
            }
        }
    }

    /** At start, once serving: puts spares into slots that need them. */
    void useSparesNow() {
        useSpares();
    }

    /** A background scrub (resync after an unclean stop, or an operator's check), for status. */
    void track(ScrubTask task) {
        this.scrub = task;
    }

    ScrubTask scrubTask() {
        return scrub;
    }

    void close() throws InterruptedException {
        background.shutdown();
        background.awaitTermination(1, TimeUnit.MINUTES);
        ScrubTask task = scrub;
        if (task != null) {
            task.stop();
        }
    }

    // ---- SlotListener: what the volume tells us ----

    @Override
    public void slotFailed(int slot, IOException cause) {
        events.memberFailed(slot);
        try {
            array.markFaulty(slot, String.valueOf(cause.getMessage()));
        } catch (IOException e) {
            log.error("array '{}': cannot record that slot {} failed: {}", name(), slot, e.toString());
        }
        try {
            background.execute(this::useSpares);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // Found during the last flush of a stop: the superblocks say it; a spare takes over at the next start.
            log.warn("array '{}': slot {} failed while stopping; a hot spare, if any, takes over at the next start",
                    name(), slot);
        }
    }

    @Override
    public void rebuildProgress(int slot, long stripes) {
        rebuildRates.computeIfAbsent(slot, s -> new RateMeter()).sample(stripes);
        try {
            array.rebuildProgress(slot, stripes);
        } catch (IOException e) {
            log.error("array '{}': cannot record rebuild progress of slot {}: {}", name(), slot, e.toString());
        }
    }

    @Override
    public void rebuildFinished(int slot) {
        rebuildRates.remove(slot);
        rebuildsStopped.remove(slot);
        try {
            array.rebuildFinished(slot);
            log.info("array '{}': rebuild of slot {} ({}) complete", name(), slot, array.memberPaths().get(slot));
        } catch (IOException e) {
            log.error("array '{}': cannot record that slot {} is rebuilt: {}", name(), slot, e.toString());
        }
    }

    @Override
    public void rebuildStopped(int slot, long stripes, Exception cause) {
        rebuildRates.remove(slot);
        rebuildsStopped.put(slot, "its rebuild stopped at stripe " + stripes + ": " + cause.getMessage());
        log.warn("array '{}': rebuild of slot {} stopped at stripe {}: {}", name(), slot, stripes, cause.toString());
        try {
            array.rebuildProgress(slot, stripes);
        } catch (IOException e) {
            log.error("array '{}': cannot record rebuild progress of slot {}: {}", name(), slot, e.toString());
        }
    }

    // ---- ArrayControl: what operators ask ----

    @Override
    public ArrayStatus status() {
        ArrayGeometry g = array.geometry();
        List<ArrayStatus.MemberStatus> members = new ArrayList<>();
        List<ArrayStatus.TaskStatus> tasks = new ArrayList<>();
        List<Path> paths = array.memberPaths();
        for (SlotView slot : volume.slots()) {
            Path path = paths.get(slot.slot());
            String state = slot.state().name().toLowerCase(Locale.ROOT);
            String stopped = slot.state() == MemberState.REBUILDING ? rebuildsStopped.get(slot.slot()) : null;
            members.add(new ArrayStatus.MemberStatus(slot.slot(), path == null ? null : path.toString(), state,
                    slot.state() == MemberState.ACTIVE ? null : stopped != null ? stopped : array.reason(slot.slot())));
            long position = volume.rebuildPosition(slot.slot());
            if (slot.state() == MemberState.REBUILDING && position >= 0) {
                tasks.add(rebuildTask(slot.slot(), path, position));
            }
        }
        ScrubTask task = scrub;
        if (task != null && task.running()) {
            double bytesPerSecond = task.rate().perSecond() * g.stripeDataSize();
            tasks.add(new ArrayStatus.TaskStatus(task.kind().word(), g.name(), task.done(), task.total(),
                    bytesPerSecond, task.rate().etaSeconds(task.done(), task.total()), task.mismatches()));
        }
        List<String> spares = array.spares().stream().map(s -> s.path().toString()).toList();
        ArrayStatus.ScrubResult last = task == null || task.ended() == null ? null
                : new ArrayStatus.ScrubResult(task.kind().word(), task.done(), task.total(), task.mismatches(),
                        task.repaired(), task.ended());
        io.parityd.protocol.PayloadBudget m = requestMemory;
        return new ArrayStatus(g.name(), g.arrayUuid(), g.level(), g.chunkSize(), g.volumeSize(), state(), members,
                spares, tasks, export, last, journalStatus(), null,
                m == null ? null : new ArrayStatus.RequestMemory(m.capacity(), m.used(), m.waiting()));
    }

    private ArrayStatus.TaskStatus rebuildTask(int slot, Path path, long position) {
        ArrayGeometry g = array.geometry();
        RateMeter rate = rebuildRates.computeIfAbsent(slot, s -> new RateMeter());
        rate.sample(position);
        return new ArrayStatus.TaskStatus("rebuild", path == null ? "slot " + slot : path.toString(), position,
                g.stripes(), rate.perSecond() * g.stripeDataSize(), rate.etaSeconds(position, g.stripes()), 0);
    }

    /** clean: every slot active; degraded: some lost but every stripe readable; failed: some stripes lost. */
    private String state() {
        // A slot being rebuilt holds nothing above its rebuild position: it counts as lost there, so
        // two slots of a RAID-5 being rebuilt (which cannot read their sources) are a failed array.
        long down = volume.slots().stream().filter(s -> s.state() != MemberState.ACTIVE).count();
        if (down > volume.redundancy()) {
            return "failed";
        }
        return down > 0 ? "degraded" : "clean";
    }

    /** Synchronized with replace and add-spare: two fails at once must not both pass the guard. */
    @Override
    public synchronized void fail(String member, boolean force) throws ControlException {
        int slot = slotOf(member);
        SlotView view = volume.slots().get(slot);
        if (view.state() == MemberState.FAULTY || view.state() == MemberState.MISSING) {
            throw new ControlException("slot " + slot + " is already " + view.state().name().toLowerCase(Locale.ROOT));
        }
        List<String> othersLost = othersNotActive(slot);
        String beyond = othersLost.size() + 1 > volume.redundancy() ? beyondRedundancy(slot, othersLost) : null;
        if (beyond != null && !force) {
            throw new ControlException(beyond + ". " + (othersLost.isEmpty() ? "To" : "Replace the lost member first"
                    + " and wait for its rebuild (parityd status); to") + " fail it anyway: parityd fail --force --name "
                    + name() + " " + slot);
        }
        if (beyond != null) {
            log.error("array '{}': failing slot {} ({}) on the operator's request, with --force: {}", name(), slot,
                    array.memberPaths().get(slot), beyond);
        } else {
            log.warn("array '{}': failing slot {} ({}) on the operator's request", name(), slot,
                    array.memberPaths().get(slot));
        }
        volume.fail(slot, new IOException("failed by the operator"));
    }

    /**
     * The slots other than {@code slot} the array runs without, described. A slot being rebuilt
     * counts: above its rebuild position it holds nothing yet, and its rebuild reads every other
     * member.
     */
    private List<String> othersNotActive(int slot) {
        List<String> lost = new ArrayList<>();
        for (SlotView s : volume.slots()) {
            if (s.slot() != slot && s.state() != MemberState.ACTIVE) {
                lost.add("slot " + s.slot() + " is " + s.state().name().toLowerCase(Locale.ROOT));
            }
        }
        return lost;
    }

    /**
     * Why {@code slot} cannot be rebuilt now, or null if it can: a rebuild reads every other slot,
     * so it needs the array able to lose {@code slot} on top of the others it runs without.
     */
    private String cannotRebuild(int slot) {
        List<String> othersLost = othersNotActive(slot);
        if (othersLost.size() + 1 <= volume.redundancy()) {
            return null;
        }
        return "cannot rebuild slot " + slot + " of RAID-" + array.geometry().level() + " array '" + name() + "': it "
                + canLose() + (othersLost.isEmpty() ? "" : ", and " + String.join(", ", othersLost)) + ", so nothing is left to"
                + " rebuild slot " + slot + " from. " + LOST_DATA;
    }

    /** What the array's level survives: "can lose 1 member", "cannot lose any member". */
    private String canLose() {
        int redundancy = volume.redundancy();
        return redundancy == 0 ? "cannot lose any member"
                : "can lose " + redundancy + " member" + (redundancy == 1 ? "" : "s");
    }

    /** The way out of a failed array (mdadm --assemble --force). */
    private static final String LOST_DATA = "The lost members may still hold their data: stop the array and start it"
            + " with 'parityd serve --force' and all its members, which trusts again the ones that dropped out last";

    /** Why losing {@code slot} as well as {@code othersLost} would fail the array (mdadm refuses the same --fail). */
    private String beyondRedundancy(int slot, List<String> othersLost) {
        return "refusing to fail slot " + slot + ": RAID-" + array.geometry().level() + " array '" + name() + "' "
                + canLose() + (othersLost.isEmpty() ? "" : ", and " + String.join(", ", othersLost) + " already")
                + ". Without slot " + slot + " the array fails: every read or write of a stripe that needs it gets"
                + " an I/O error, and there is nothing left to rebuild it from";
    }

    @Override
    public synchronized void replace(String member, Path replacement) throws ControlException {
        int slot = slotOf(member);
        if (volume.rebuildPosition(slot) >= 0) {
            throw new ControlException("slot " + slot + " is being rebuilt already; wait for it to finish (parityd status)");
        }
        String cannot = cannotRebuild(slot);
        if (cannot != null) {
            throw new ControlException(cannot);
        }
        SlotView view = volume.slots().get(slot);
        BlockDevice device = view.state() == MemberState.ACTIVE ? null : FormerMembers.stillOpen(array, slot, replacement);
        if (device == null) {
            device = openChecked(replacement, "replacement", slot);
        }
        if (view.state() == MemberState.ACTIVE || view.state() == MemberState.REBUILDING) {
            volume.fail(slot, new IOException("replaced by " + replacement + " on the operator's request"));
        }
        startRebuild(slot, replacement, device);
    }

    @Override
    public synchronized void reAdd(Path member) throws ControlException {
        SuperblockRecord theirs = FormerMembers.record(member);
        int slot = FormerMembers.slot(array, member, theirs);
        SlotView view = volume.slots().get(slot);
        if (view.state() == MemberState.ACTIVE) {
            throw new ControlException(member + " is the member of slot " + slot + " of array '" + name()
                    + "', and active: nothing to re-add");
        }
        if (volume.rebuildPosition(slot) >= 0) {
            throw new ControlException("slot " + slot + " is being rebuilt already; wait for it to finish (parityd status)");
        }
        String cannot = cannotRebuild(slot);
        if (cannot != null) {
            throw new ControlException(cannot);
        }
        BlockDevice device = FormerMembers.stillOpen(array, slot, member);
        if (device == null) {
            device = openChecked(member, "member", slot);
        }
        WriteIntent intent = volume.writeIntent();
        if (!intent.covers(theirs.generation())) {
            log.info("array '{}': re-adding {} to slot {}, its own: rebuilding it in full (it last took part at"
                    + " generation {}, before the record of what was written since began)", name(), member, slot,
                    theirs.generation());
            startRebuild(slot, member, device);
            return;
        }
        log.info("array '{}': re-adding {} to slot {}, its own: resyncing the {} of {} regions written while it was"
                + " away", name(), member, slot, intent.marked(), intent.regions());
        startRebuild(slot, member, device, true);
    }

    @Override
    public synchronized void addSpare(Path spare) throws ControlException {
        if (state().equals("failed")) {
            throw new ControlException("array '" + name() + "' has failed (" + String.join(", ", othersNotActive(-1))
                    + "; RAID-" + array.geometry().level() + " " + canLose() + "): a spare could not"
                    + " be rebuilt, with nothing to rebuild it from. " + LOST_DATA);
        }
        BlockDevice device = openChecked(spare, "spare");
        try {
            array.addSpare(spare, device);
        } catch (IOException e) {
            closeQuietly(device);
            throw new ControlException("cannot add spare " + spare + ": " + e.getMessage());
        }
        log.info("array '{}': added hot spare {}", name(), spare);
        background.execute(this::useSpares);
    }

    @Override
    public synchronized void scrub(boolean repair) throws ControlException {
        ScrubTask running = scrub;
        if (running != null && running.running()) {
            throw new ControlException("a " + running.kind().word() + " is already running; wait for it (parityd status)");
        }
        if (volume.slots().stream().anyMatch(s -> s.state() == MemberState.REBUILDING)) {
            throw new ControlException("a rebuild is running; scrub once it has finished (parityd status)");
        }
        ScrubTask task = new ScrubTask(volume, repair ? ScrubTask.Kind.REPAIR : ScrubTask.Kind.CHECK, events);
        scrub = task;
        task.start();
    }

    // ---- helpers ----

    /** Puts the first spare into each faulty or missing slot that is not being rebuilt. */
    private synchronized void useSpares() {
        List<SlotView> slots = volume.slots();
        for (SlotView slot : slots) {
            boolean lost = slot.state() == MemberState.FAULTY || slot.state() == MemberState.MISSING;
            if (!lost || volume.rebuildPosition(slot.slot()) >= 0) {
                continue;
            }
            String cannot = cannotRebuild(slot.slot());
            if (cannot != null) {
                log.error("array '{}': not using a spare: {}", name(), cannot);
                return;
            }
            try {
                Optional<AssembledArray.Spare> spare = array.takeSpare();
                if (spare.isEmpty()) {
                    return;
                }
                log.warn("array '{}': slot {} lost; rebuilding onto hot spare {}", name(), slot.slot(), spare.get().path());
                startRebuild(slot.slot(), spare.get().path(), spare.get().device());
            } catch (ControlException | IOException e) {
                log.error("array '{}': cannot use a spare for slot {}: {}", name(), slot.slot(), e.toString());
            }
        }
    }

    private void startRebuild(int slot, Path path, BlockDevice device) throws ControlException {
        startRebuild(slot, path, device, false);
    }

    /** @param onlyMarked a re-add the write intent covers: only the regions it marks are resynced */
    private void startRebuild(int slot, Path path, BlockDevice device, boolean onlyMarked) throws ControlException {
        try {
            array.beginRebuild(slot, path, device);
        } catch (IOException | IllegalStateException e) {
            closeQuietly(device);
            throw new ControlException("cannot start rebuilding slot " + slot + " onto " + path + ": " + e.getMessage());
        }
        log.info("array '{}': rebuilding slot {} onto {}", name(), slot, path);
        rebuildsStopped.remove(slot);
        if (onlyMarked) {
            volume.reAdd(slot, device);
        } else {
            volume.rebuild(slot, device, 0);
        }
    }

    private BlockDevice openChecked(Path path, String role) throws ControlException {
        return openChecked(path, role, -1);
    }

    /** As above; the member {@code slot} holds itself (not active) may come back to it. */
    private BlockDevice openChecked(Path path, String role, int slot) throws ControlException {
        try {
            return NewMemberCheck.open(path, array, role, slot);
        } catch (ArrayException e) {
            throw new ControlException(e.getMessage());
        }
    }

    /** A slot number, or the path of a current member (as given to serve). */
    private int slotOf(String member) throws ControlException {
        int slots = array.geometry().memberCount();
        if (member.matches("\\d+")) {
            int slot = Integer.parseInt(member);
            if (slot < slots) {
                return slot;
            }
            throw new ControlException("array '" + name() + "' has slots 0 to " + (slots - 1) + ", not " + slot);
        }
        List<Path> paths = array.memberPaths();
        for (int slot = 0; slot < paths.size(); slot++) {
            Path path = paths.get(slot);
            if (path != null && path.toAbsolutePath().normalize().equals(Path.of(member).toAbsolutePath().normalize())) {
                return slot;
            }
        }
        throw new ControlException(member + " is not a member of array '" + name() + "'; give a member's path or slot"
                + " number as 'parityd status' lists them");
    }

    private String name() {
        return array.geometry().name();
    }

    private static void closeQuietly(BlockDevice device) {
        try {
            device.close();
        } catch (IOException e) {
            log.debug("closing {} failed: {}", device.describe(), e.toString());
        }
    }
}
