package io.parityd.service;

import io.parityd.block.FaultSpec;
import io.parityd.front.FrontConfig;
import io.parityd.front.ListenAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Everything {@code parityd serve} needs, validated once before anything opens.
 *
 * @param members       member and spare paths, in any order (slots come from their superblocks)
 * @param listen        where the NBD server listens
 * @param ioThreads     threads doing blocking member I/O
 * @param front         socket-side settings
 * @param adminSocket   the admin socket's path, or null for the default of the array's name
 * @param forceDegraded start a dirty array with members absent (see ArrayAssembler)
 * @param faults        fault-injection specs wrapping members (tests and drills only)
 * @param rebuildRate   most bytes per second a rebuild writes to its new member; 0 for no limit
 * @param journal       the write journal
 * @param metrics       where Prometheus scrapes {@code /metrics}, or null for no metrics endpoint
 */
public record ServeSettings(List<Path> members, ListenAddress listen, int ioThreads, FrontConfig front,
                            Path adminSocket, boolean forceDegraded, List<FaultSpec> faults, long rebuildRate,
                            JournalSettings journal, java.net.InetSocketAddress metrics) {

    /** Without a metrics endpoint. */
    public ServeSettings(List<Path> members, ListenAddress listen, int ioThreads, FrontConfig front,
                         Path adminSocket, boolean forceDegraded, List<FaultSpec> faults, long rebuildRate,
                         JournalSettings journal) {
        this(members, listen, ioThreads, front, adminSocket, forceDegraded, faults, rebuildRate, journal, null);
    }

    /**
     * Sixteen I/O threads: enough to keep a few requests in flight per member on a five-member
     * array (each request touches one to five members), few enough not to thrash two cores.
     */
    public static final int DEFAULT_IO_THREADS = 16;

    /** Defaults for everything but members, listen address, threads and journal. */
    public ServeSettings(List<Path> members, ListenAddress listen, int ioThreads, FrontConfig front,
                         JournalSettings journal) {
        this(members, listen, ioThreads, front, null, false, List.of(), 0, journal);
    }

    public ServeSettings {
        members = List.copyOf(members);
        faults = List.copyOf(faults);
        if (rebuildRate < 0) {
            throw new IllegalArgumentException("--rebuild-max-rate must not be negative");
        }
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(front, "front");
        Objects.requireNonNull(journal, "journal");
        if (members.isEmpty()) {
            throw new IllegalArgumentException("no members given");
        }
        if (ioThreads < 1 || ioThreads > 1024) {
            throw new IllegalArgumentException("--io-threads must be between 1 and 1024, got " + ioThreads);
        }
    }
}
