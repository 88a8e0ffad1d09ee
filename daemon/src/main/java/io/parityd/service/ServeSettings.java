package io.parityd.service;

import io.parityd.front.FrontConfig;
import io.parityd.front.ListenAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Everything {@code parityd serve} needs, validated once before anything opens.
 *
 * @param members   member paths, in any order (slots come from their superblocks)
 * @param listen    where the NBD server listens
 * @param ioThreads threads doing blocking member I/O
 * @param front     socket-side settings
 */
public record ServeSettings(List<Path> members, ListenAddress listen, int ioThreads, FrontConfig front) {

    /**
     * Sixteen I/O threads: enough to keep a few requests in flight per member on a five-member
     * array (each request touches one to five members), few enough not to thrash two cores.
     */
    public static final int DEFAULT_IO_THREADS = 16;

    public ServeSettings {
        members = List.copyOf(members);
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(front, "front");
        if (members.isEmpty()) {
            throw new IllegalArgumentException("no members given");
        }
        if (ioThreads < 1 || ioThreads > 1024) {
            throw new IllegalArgumentException("--io-threads must be between 1 and 1024, got " + ioThreads);
        }
    }
}
