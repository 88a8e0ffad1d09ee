package io.parityd.service;

import io.parityd.admin.AdminPaths;
import io.parityd.admin.AdminServer;
import io.parityd.block.BlockDevice;
import io.parityd.block.FaultSpec;
import io.parityd.controller.Controller;
import io.parityd.controller.JournalReplay;
import io.parityd.controller.JournaledController;
import io.parityd.controller.LocalController;
import io.parityd.controller.RecoveryReport;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalException;
import io.parityd.nvram.JournalMode;
import io.parityd.nvram.JournalOptions;
import io.parityd.controller.CommandController;
import io.parityd.front.ListenAddress;
import io.parityd.front.NbdServer;
import io.parityd.front.VolumeExport;
import io.parityd.raid.ArrayAssembler;
import io.parityd.raid.ArrayException;
import io.parityd.raid.ArrayGeometry;
import io.parityd.raid.AssembledArray;
import io.parityd.raid.MemberState;
import io.parityd.raid.RaidVolume;
import io.parityd.raid.RaidVolumes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Single-process mode (DESIGN.md "Processes"): one JVM runs the front and one controller,
 * joined in-process, plus the admin socket operators use. Start order is array, volume,
 * controller, front, admin socket; {@link #close()} runs it backwards so nothing is closed while
 * something above still uses it, and the array is marked clean only after the last write is
 * durable.
 */
public final class SingleProcessService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SingleProcessService.class);

    private final AssembledArray array;
    private final RaidVolume volume;
    private final ArrayOperations operations;
    private final Controller controller;
    private final NbdServer server;
    private final AdminServer admin;
    private final ScrubTask resync;
    private final io.parityd.metrics.Metrics metrics;

    /** This run marked the array dirty, so a clean stop marks it clean (a read-only run of a clean array did not). */
    private final boolean markedDirty;

    private SingleProcessService(AssembledArray array, RaidVolume volume, ArrayOperations operations,
                                 Controller controller, NbdServer server, AdminServer admin, ScrubTask resync,
                                 io.parityd.metrics.Metrics metrics, boolean markedDirty) {
        this.metrics = metrics;
        this.markedDirty = markedDirty;
        this.array = array;
        this.volume = volume;
        this.operations = operations;
        this.controller = controller;
        this.server = server;
        this.admin = admin;
        this.resync = resync;
    }

    /**
     * Assembles the array from {@code settings.members()}, replays its journal if the last run
     * stopped uncleanly, and starts serving it.
     */
    public static SingleProcessService start(ServeSettings settings) throws ArrayException, IOException {
        AssembledArray array = new ArrayAssembler(Clock.systemUTC()).assemble(settings.members(), dirtyDegraded(settings));
        boolean wasClean = array.shutDownCleanly();
        Started started = new Started(array);
        try {
            ArrayGeometry g = array.geometry();
            logAssembly(array);
            boolean fullResync = needsFullResync(array, settings.journal());
            started.journal = openJournal(array, settings.journal());
            started.operations = new ArrayOperations(array);
            if (settings.metrics() != null) {
                started.metrics = new io.parityd.metrics.Metrics();
                started.operations.events(started.metrics.counters(g.memberCount()));
            }
            started.volume = RaidVolumes.openHeld(g, withFaults(array.devices(), settings.faults()), array.states(),
                    array.rebuildPositions(), started.operations);
            started.operations.attach(started.volume);
            started.operations.journal(started.journal, settings.journal().nonVolatile());
            started.volume.rebuildRateLimit(settings.rebuildRate());
            if (started.journal != null && !wasClean && !fullResync) {
                RecoveryReport report = JournalReplay.recover(started.journal, started.volume);
                log.info("array '{}' recovered from journal {}: {}", g.name(), started.journal.path(), report.summary());
                started.operations.recovered(report);
            }
            if (started.journal != null) {
                switchMode(started.journal, settings.journal(), g.name());
            }
            if (wasClean && settings.front().readOnly()) {
                // No client can write: a clean array stays clean, and its members untouched.
                log.info("array '{}' is exported read-only: it stays marked clean", g.name());
            } else {
                array.markDirty(started.journal == null ? null : started.journal.uuid(),
                        started.journal != null && started.journal.mode() == io.parityd.nvram.JournalMode.COMMANDS);
                started.markedDirty = true;
            }
            // Only now: a rebuild reads parity, which the replay has just made trustworthy.
            started.volume.resumeRebuilds();
            started.operations.reportResumedRebuilds();
            started.controller = controllerFor(started.volume, started.journal, settings);
            VolumeExport export = new VolumeExport(g.name(), description(g), g.volumeSize(),
                    settings.front().readOnly());
            started.server = NbdServer.start(settings.listen(), export, started.controller, settings.front(),
                    started.metrics == null ? io.parityd.front.RequestObserver.NONE : started.metrics.nbd());
            started.operations.export(started.server.uri(), started.server.budget());
            Path socket = settings.adminSocket() != null ? settings.adminSocket() : AdminPaths.defaultFor(g.name());
            started.admin = AdminServer.start(socket, started.operations);
            log.info("admin socket for '{}': {} (parityd status --admin-socket {})", g.name(), socket, socket);
            if (started.metrics != null) {
                if (started.journal != null) {
                    started.metrics.journal(started.journal);
                }
                started.metrics.requestMemory(started.server.budget());
                started.metrics.serve(settings.metrics(), started.operations::status, g.memberCount());
            }
            ScrubTask resync = null;
            if (fullResync) {
                resync = new ScrubTask(started.volume, ScrubTask.Kind.RESYNC, started.operations.events());
                started.operations.track(resync);
                resync.start();
            }
            started.operations.useSparesNow();
            return new SingleProcessService(array, started.volume, started.operations, started.controller,
                    started.server, started.admin, resync, started.metrics, started.markedDirty);
        } catch (IOException | RuntimeException e) {
            started.abandon(wasClean, e);
            throw e;
        } catch (ArrayException e) {
            started.abandon(wasClean, e);
            throw e;
        }
    }

    /**
     * A dirty array with members absent: forced by the operator, or safe if its journal is
     * replayed (preimages cover the stripes those members left degraded), else refused.
     */
    private static ArrayAssembler.DirtyDegraded dirtyDegraded(ServeSettings settings) {
        if (settings.forceDegraded()) {
            return ArrayAssembler.DirtyDegraded.FORCE;
        }
        JournalSettings journal = settings.journal();
        return journal.enabled() && !journal.discard() ? ArrayAssembler.DirtyDegraded.JOURNAL_REPLAYS
                : ArrayAssembler.DirtyDegraded.REFUSE;
    }

    /**
     * Whether every stripe's redundancy must be recomputed before it can be trusted: after an
     * unclean stop of a run without a journal (like md without a bitmap), or when the operator
     * discards the journal that would have said which stripes were being written. Refuses to
     * start without the journal an unclean journaled run left.
     */
    private static boolean needsFullResync(AssembledArray array, JournalSettings journal) throws ArrayException {
        String name = array.geometry().name();
        if (array.shutDownCleanly()) {
            return false;
        }
        Optional<UUID> last = array.journalUuid();
        if (last.isEmpty()) {
            log.warn("array '{}' was not shut down cleanly and its last run had no write journal: stripes written at"
                    + " the time may hold stale redundancy; resyncing every stripe in the background while serving"
                    + " (like md after a crash)", name);
            return true;
        }
        if (journal.discard()) {
            log.warn("array '{}' was not shut down cleanly; its journal {} is being discarded as asked"
                    + " (--discard-journal): writes it held may be lost, and every stripe is resynced", name, last.get());
            return true;
        }
        if (!journal.enabled()) {
            throw new ArrayException("array '" + name + "' was not shut down cleanly and its last run wrote through"
                    + " journal " + last.get() + ", which holds writes the members may lack",
                    "start without --journal off (and with the same --nvram) so it is recovered, or add"
                    + " --discard-journal to drop it knowingly and resync all parity");
        }
        log.warn("array '{}' was not shut down cleanly: replaying its write journal before serving", name);
        return false;
    }

    /** Creates the default journal's directory (owner-only) if it is missing; an explicit --nvram's must exist. */
    private static void createStateDirectory(Path dir) throws ArrayException {
        if (dir == null || Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            log.info("created {} for the write journal", dir);
        } catch (IOException e) {
            throw new ArrayException("cannot create " + dir + " for the write journal: " + e,
                    "create it, run as a user who may, or choose the journal's place with --nvram");
        }
    }

    /**
     * A start in another mode than the journal holds: what it held was finished above (recovered
     * and retired), so it now changes mode, durably, and says so.
     */
    static void switchMode(Journal journal, JournalSettings settings, String array) throws IOException {
        JournalMode was = journal.mode();
        if (was == settings.mode()) {
            return;
        }
        journal.switchMode(settings.mode());
        log.info("array '{}': journal {} held {} records; finished in that mode, it holds {} from now on",
                array, journal.path(), was.word(), settings.mode().word());
    }

    /** The controller for the journal's mode: commands (the default), data, or none. */
    private static io.parityd.controller.Controller controllerFor(io.parityd.raid.RaidVolume volume, Journal journal,
                                                                    ServeSettings settings) {
        if (journal == null) {
            return new LocalController(volume, settings.ioThreads());
        }
        return journal.mode() == JournalMode.COMMANDS
                ? new CommandController(volume, journal, settings.ioThreads(), settings.journal().regionBytes(),
                        io.parityd.controller.Replication.NONE)
                : new JournaledController(volume, journal, settings.ioThreads());
    }

    /** Opens the journal settings ask for, or returns null under {@code --journal off}. */
    private static Journal openJournal(AssembledArray array, JournalSettings settings) throws ArrayException {
        if (!settings.enabled()) {
            log.warn("array '{}' runs WITHOUT a write journal (--journal off): a crash mid-write can leave parity"
                    + " lying until a full resync", array.geometry().name());
            return null;
        }
        ArrayGeometry g = array.geometry();
        Path path = settings.path();
        if (path == null) {
            path = JournalSettings.defaultPath(g.name(), array.memberPaths());
            createStateDirectory(path.getParent()); // systemd's StateDirectory= does this; a manual start as root too
        }
        UUID expected = array.shutDownCleanly() || settings.discard() ? null : array.journalUuid().orElse(null);
        JournalOptions options = new JournalOptions(path, g.arrayUuid(), g.name(), expected, settings.capacity(),
                settings.nonVolatile(), settings.discard(), JournalOptions.SyncHook.NONE, settings.mode());
        try {
            Journal journal = Journal.open(options);
            log.info("array '{}' journals {} to {} ({}{})", g.name(),
                    settings.mode() == JournalMode.COMMANDS ? "write commands and dirty "
                            + (settings.regionBytes() >> 20) + " MiB regions" : "write data", path,
                    settings.mode() == JournalMode.COMMANDS ? "no data in it" : (settings.capacity() >> 20) + " MiB",
                    settings.nonVolatile() ? ", declared non-volatile: no sync before member writes" : "");
            return journal;
        } catch (JournalException e) {
            throw new ArrayException(e.getMessage(), JournalFix.fixFor(e.problem(), path), e);
        }
    }

    /** The export's URI, e.g. {@code nbd://127.0.0.1:10809/demo}. */
    public String uri() {
        return server.uri();
    }

    /** Where the NBD server really listens (with the kernel's port when 0 was asked for). */
    public ListenAddress address() {
        return server.address();
    }

    public ArrayGeometry geometry() {
        return array.geometry();
    }

    /**
     * Stops the admin socket and the front (in-flight requests finish), background work and the
     * controller (everything durable), rebuilds (their position persisted); marks the array clean
     * unless a resync is still owed; closes the members. Every step runs even if an earlier one
     * failed; the first failure is thrown with the others suppressed.
     */
    @Override
    public void close() throws Exception {
        List<Exception> failures = new ArrayList<>();
        if (metrics != null) {
            run(failures, metrics::close);
        }
        run(failures, admin::close);
        run(failures, server::stop);
        run(failures, operations::close);
        run(failures, controller::close);
        run(failures, volume::stopRebuilds);
        boolean redundancyTrusted = resync == null || resync.finished();
        if (failures.isEmpty() && redundancyTrusted && markedDirty) {
            run(failures, array::markClean);
        } else if (!redundancyTrusted) {
            log.warn("array '{}' stays marked dirty: its resync did not finish and runs again at the next start",
                    geometry().name());
        }
        run(failures, volume::close);
        run(failures, array::close);
        if (!failures.isEmpty()) {
            Exception first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
        log.info("array '{}' stopped{}", geometry().name(), redundancyTrusted ? " cleanly" : "");
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    private static void run(List<Exception> failures, Step step) {
        try {
            step.run();
        } catch (Exception e) {
            failures.add(e);
        }
    }

    /** What a start has built so far, to be taken down in reverse if a later step fails. */
    private static final class Started {
        private final AssembledArray array;
        private ArrayOperations operations;
        private RaidVolume volume;
        private Journal journal;
        private Controller controller;
        private NbdServer server;
        private AdminServer admin;
        private io.parityd.metrics.Metrics metrics;
        /** The array was marked dirty for this run (not when a clean array is exported read-only). */
        private boolean markedDirty;

        Started(AssembledArray array) {
            this.array = array;
        }

        /**
         * Undoes a start that failed before it served: nothing was written by clients, so an array
         * that was clean is marked clean again (otherwise the next start would resync it all).
         */
        void abandon(boolean wasClean, Exception cause) {
            List<Exception> failures = new ArrayList<>();
            if (metrics != null) {
                run(failures, metrics::close);
            }
            if (admin != null) {
                run(failures, admin::close);
            }
            if (server != null) {
                run(failures, server::stop);
            }
            if (operations != null) {
                run(failures, operations::close);
            }
            if (controller != null) {
                run(failures, controller::close); // closes the journal too
            } else if (journal != null) {
                run(failures, () -> closeJournal(journal));
            }
            if (volume != null) {
                run(failures, volume::stopRebuilds);
            }
            if (wasClean && markedDirty && failures.isEmpty()) {
                run(failures, array::markClean);
            }
            if (volume != null) {
                run(failures, volume::close);
            }
            run(failures, array::close);
            failures.forEach(cause::addSuppressed);
        }
    }

    /** Closes a journal no controller took over: cleanly if it holds nothing (a replay finished), else as found. */
    private static void closeJournal(Journal journal) throws IOException {
        if (journal.stats().records() == 0) {
            journal.closeClean();
        } else {
            journal.close();
        }
    }

    /** Wraps the devices the specs name in fault-injecting layers (hidden option, for tests and drills). */
    private static List<BlockDevice> withFaults(List<BlockDevice> devices, List<FaultSpec> faults) {
        List<BlockDevice> wrapped = new ArrayList<>(devices);
        for (FaultSpec spec : faults) {
            if (spec.slot() >= wrapped.size() || wrapped.get(spec.slot()) == null) {
                throw new IllegalArgumentException("--fault-inject names slot " + spec.slot() + ", which has no device");
            }
            log.warn("FAULT INJECTION on slot {}: {}", spec.slot(), spec.mode());
            wrapped.set(spec.slot(), spec.wrap(wrapped.get(spec.slot())));
        }
        return wrapped;
    }

    static String description(ArrayGeometry g) {
        return "parityd RAID-" + g.level() + " volume '" + g.name() + "': " + g.memberCount() + " members, chunk "
                + (g.chunkSize() / 1024) + " KiB";
    }

    private static void logAssembly(AssembledArray array) {
        ArrayGeometry g = array.geometry();
        log.info("assembled RAID-{} array '{}' ({}): {} members, chunk {} KiB, {} bytes usable",
                g.level(), g.name(), g.arrayUuid(), g.memberCount(), g.chunkSize() / 1024, g.volumeSize());
        List<MemberState> states = array.states();
        for (int slot = 0; slot < g.memberCount(); slot++) {
            Path path = array.memberPaths().get(slot);
            MemberState state = states.get(slot);
            log.info("  slot {}: {}{}", slot, path == null ? "(none)" : path,
                    state == MemberState.ACTIVE ? "" : " [" + state.name().toLowerCase(java.util.Locale.ROOT)
                            + (array.reason(slot) == null ? "" : ": " + array.reason(slot)) + "]");
        }
        array.spares().forEach(spare -> log.info("  spare: {}", spare.path()));
    }
}
