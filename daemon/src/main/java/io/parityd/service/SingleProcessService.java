package io.parityd.service;

import io.parityd.controller.LocalController;
import io.parityd.front.ListenAddress;
import io.parityd.front.NbdServer;
import io.parityd.front.VolumeExport;
import io.parityd.raid.ArrayAssembler;
import io.parityd.raid.ArrayException;
import io.parityd.raid.ArrayGeometry;
import io.parityd.raid.AssembledArray;
import io.parityd.raid.Raid5Volume;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Single-process mode (DESIGN.md "Processes"): one JVM runs the front and one controller,
 * joined in-process. Start order is array, volume, controller, front; {@link #close()} runs it
 * backwards so nothing is closed while something above still uses it, and the array is marked
 * clean only after the last write is durable.
 */
public final class SingleProcessService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SingleProcessService.class);

    private final AssembledArray array;
    private final Raid5Volume volume;
    private final LocalController controller;
    private final NbdServer server;
    private final BackgroundResync resync;

    private SingleProcessService(AssembledArray array, Raid5Volume volume, LocalController controller,
                                 NbdServer server, BackgroundResync resync) {
        this.array = array;
        this.volume = volume;
        this.controller = controller;
        this.server = server;
        this.resync = resync;
    }

    /** Assembles the array from {@code settings.members()} and starts serving it. */
    public static SingleProcessService start(ServeSettings settings) throws ArrayException, IOException {
        AssembledArray array = new ArrayAssembler(Clock.systemUTC()).assemble(settings.members());
        boolean wasClean = array.shutDownCleanly();
        LocalController controller = null;
        try {
            ArrayGeometry g = array.geometry();
            logAssembly(array);
            array.markDirty();
            Raid5Volume volume = new Raid5Volume(g, array.devices());
            controller = new LocalController(volume, settings.ioThreads());
            VolumeExport export = new VolumeExport(g.name(), description(g), g.volumeSize());
            NbdServer server = NbdServer.start(settings.listen(), export, controller, settings.front());
            BackgroundResync resync = null;
            if (!wasClean) {
                log.warn("array '{}' was not shut down cleanly: stripes written at the time may hold stale parity; "
                        + "resyncing every stripe in the background while serving (like md after a crash)", g.name());
                resync = new BackgroundResync(volume);
                resync.start();
            }
            return new SingleProcessService(array, volume, controller, server, resync);
        } catch (IOException | RuntimeException e) {
            closeAfterFailedStart(array, controller, wasClean, e);
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
        return volume.geometry();
    }

    /**
     * Stops the front (in-flight requests finish), drains the controller (everything durable),
     * marks the array clean unless a resync is still owed, and closes the members. Every step
     * runs even if an earlier one failed; the first failure is thrown with the others suppressed.
     */
    @Override
    public void close() throws Exception {
        List<Exception> failures = new ArrayList<>();
        run(failures, server::stop);
        run(failures, () -> {
            if (resync != null) {
                resync.stop();
            }
        });
        run(failures, controller::close);
        boolean parityTrusted = resync == null || resync.finished();
        if (failures.isEmpty() && parityTrusted) {
            run(failures, array::markClean);
        } else if (!parityTrusted) {
            log.warn("array '{}' stays marked dirty: its resync did not finish and runs again at the next start", geometry().name());
        }
        run(failures, array::close);
        if (!failures.isEmpty()) {
            Exception first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
        log.info("array '{}' stopped{}", geometry().name(), failures.isEmpty() && parityTrusted ? " cleanly" : "");
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

    /**
     * Undoes a start that failed before any client could connect: nothing was written, so an
     * array that was clean is marked clean again (otherwise the next start would resync it all).
     */
    private static void closeAfterFailedStart(AssembledArray array, LocalController controller, boolean wasClean,
                                              Exception cause) {
        List<Exception> failures = new ArrayList<>();
        if (controller != null) {
            run(failures, controller::close);
        }
        if (wasClean && failures.isEmpty()) {
            run(failures, array::markClean);
        }
        run(failures, array::close);
        failures.forEach(cause::addSuppressed);
    }

    static String description(ArrayGeometry g) {
        return "parityd RAID-" + g.level() + " volume '" + g.name() + "': " + g.memberCount() + " members, chunk "
                + (g.chunkSize() / 1024) + " KiB";
    }

    private static void logAssembly(AssembledArray array) {
        ArrayGeometry g = array.geometry();
        log.info("assembled RAID-{} array '{}' ({}): {} members, chunk {} KiB, {} bytes usable",
                g.level(), g.name(), g.arrayUuid(), g.memberCount(), g.chunkSize() / 1024, g.volumeSize());
        for (int slot = 0; slot < g.memberCount(); slot++) {
            log.info("  slot {}: {}", slot, array.memberPaths().get(slot));
        }
    }
}
