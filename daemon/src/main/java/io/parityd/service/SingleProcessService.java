package io.parityd.service;

import io.parityd.admin.AdminPaths;
import io.parityd.admin.AdminServer;
import io.parityd.block.BlockDevice;
import io.parityd.block.FaultSpec;
import io.parityd.controller.LocalController;
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
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
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
    private final LocalController controller;
    private final NbdServer server;
    private final AdminServer admin;
    private final ScrubTask resync;

    private SingleProcessService(AssembledArray array, RaidVolume volume, ArrayOperations operations,
                                 LocalController controller, NbdServer server, AdminServer admin, ScrubTask resync) {
        this.array = array;
        this.volume = volume;
        this.operations = operations;
        this.controller = controller;
        this.server = server;
        this.admin = admin;
        this.resync = resync;
    }

    /** Assembles the array from {@code settings.members()} and starts serving it. */
    public static SingleProcessService start(ServeSettings settings) throws ArrayException, IOException {
        AssembledArray array = new ArrayAssembler(Clock.systemUTC()).assemble(settings.members(), settings.forceDegraded());
        boolean wasClean = array.shutDownCleanly();
        Started started = new Started(array);
        try {
            ArrayGeometry g = array.geometry();
            logAssembly(array);
            if (!wasClean) {
                log.warn("array '{}' was not shut down cleanly: stripes written at the time may hold stale redundancy;"
                        + " resyncing every stripe in the background while serving (like md after a crash)", g.name());
            }
            array.markDirty();
            started.operations = new ArrayOperations(array);
            started.volume = RaidVolumes.open(g, withFaults(array.devices(), settings.faults()), array.states(),
                    array.rebuildPositions(), started.operations);
            started.operations.attach(started.volume);
            started.volume.rebuildRateLimit(settings.rebuildRate());
            started.operations.reportResumedRebuilds();
            started.controller = new LocalController(started.volume, settings.ioThreads());
            VolumeExport export = new VolumeExport(g.name(), description(g), g.volumeSize());
            started.server = NbdServer.start(settings.listen(), export, started.controller, settings.front());
            started.operations.export(started.server.uri());
            Path socket = settings.adminSocket() != null ? settings.adminSocket() : AdminPaths.defaultFor(g.name());
            started.admin = AdminServer.start(socket, started.operations);
            log.info("admin socket for '{}': {} (parityd status --admin-socket {})", g.name(), socket, socket);
            ScrubTask resync = null;
            if (!wasClean) {
                resync = new ScrubTask(started.volume, ScrubTask.Kind.RESYNC);
                started.operations.track(resync);
                resync.start();
            }
            started.operations.useSparesNow();
            return new SingleProcessService(array, started.volume, started.operations, started.controller,
                    started.server, started.admin, resync);
        } catch (IOException | RuntimeException e) {
            started.abandon(wasClean, e);
            throw e;
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
        run(failures, admin::close);
        run(failures, server::stop);
        run(failures, operations::close);
        run(failures, controller::close);
        run(failures, volume::stopRebuilds);
        boolean redundancyTrusted = resync == null || resync.finished();
        if (failures.isEmpty() && redundancyTrusted) {
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
        private LocalController controller;
        private NbdServer server;
        private AdminServer admin;

        Started(AssembledArray array) {
            this.array = array;
        }

        /**
         * Undoes a start that failed before it served: nothing was written by clients, so an array
         * that was clean is marked clean again (otherwise the next start would resync it all).
         */
        void abandon(boolean wasClean, Exception cause) {
            List<Exception> failures = new ArrayList<>();
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
                run(failures, controller::close);
            }
            if (volume != null) {
                run(failures, volume::stopRebuilds);
            }
            if (wasClean && failures.isEmpty()) {
                run(failures, array::markClean);
            }
            if (volume != null) {
                run(failures, volume::close);
            }
            run(failures, array::close);
            failures.forEach(cause::addSuppressed);
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
