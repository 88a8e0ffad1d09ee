package io.parityd.replication;

import io.parityd.link.LinkSecret;
import io.parityd.service.JournalSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import io.parityd.raid.ArrayException;
import io.parityd.raid.MemberScan;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * One controller process of an HA pair, as {@code parityd controller} was told to run it;
 * validated once, before anything opens.
 *
 * @param id          this controller's name, unique in the pair ("a", "b"): in logs, status, and
 *                    the state file, so two controllers never mix up each other's journal
 * @param listen      where the front and the peer controller connect
 * @param advertise   the address the peer dials to reach this one ("host:port"); by default the
 *                    listening address (which must then not be a wildcard)
 * @param members     every member of the array, in any order (opened only while primary)
 * @param journal     this controller's own journal (never shared with the peer)
 * @param secret      the shared secret every link proves
 * @param ioThreads   threads doing member I/O while primary
 * @param promoteWait how long a promotion waits for the members' locks, which the old primary
 *                    holds until it is fenced
 * @param adminSocket where {@code parityd status} reaches it; null for the default
 * @param metrics     where Prometheus scrapes {@code /metrics}, or null for none
 * @param uuid        with {@code --uuid}, the array to find among {@code members}, which are then
 *                    candidates ({@link #currentMembers()}); else null
 * @param scan        {@code --scan}: {@code members} may be directories to look in
 * @param linkTls     {@code --link-tls-certificates}: mutual TLS on every link, or null for none
 */
public record ControllerSettings(String id, InetSocketAddress listen, String advertise, List<Path> members,
                                 JournalSettings journal, LinkSecret secret, int ioThreads, Duration promoteWait,
                                 Path adminSocket, InetSocketAddress metrics, UUID uuid, boolean scan,
                                 io.parityd.link.LinkTls linkTls) {

    /** Without link TLS. */
    public ControllerSettings(String id, InetSocketAddress listen, String advertise, List<Path> members,
                              JournalSettings journal, LinkSecret secret, int ioThreads, Duration promoteWait,
                              Path adminSocket, InetSocketAddress metrics, UUID uuid, boolean scan) {
        this(id, listen, advertise, members, journal, secret, ioThreads, promoteWait, adminSocket, metrics, uuid, scan,
                null);
    }

    /** Members given one by one, without {@code --uuid} or {@code --scan}. */
    public ControllerSettings(String id, InetSocketAddress listen, String advertise, List<Path> members,
                              JournalSettings journal, LinkSecret secret, int ioThreads, Duration promoteWait,
                              Path adminSocket, InetSocketAddress metrics) {
        this(id, listen, advertise, members, journal, secret, ioThreads, promoteWait, adminSocket, metrics, null, false);
    }

    /**
     * The array's current members: as given, or with {@code --uuid}/{@code --scan} picked anew
     * from the candidates each time (at the start, and at each promotion: a spare may have taken
     * a slot over, or a member been replaced, while this controller was standby).
     */
    public List<Path> currentMembers() throws ArrayException {
        return uuid == null && !scan ? members : MemberScan.current(Optional.ofNullable(uuid), members, scan);
    }

    /** Long enough for the kernel to release a killed process's locks, short enough to retry the promotion. */
    public static final Duration DEFAULT_PROMOTE_WAIT = Duration.ofSeconds(5);

    public ControllerSettings {
        Objects.requireNonNull(id, "id");
        if (!id.matches("[A-Za-z0-9_.-]{1,32}")) {
            throw new IllegalArgumentException("--id '" + id + "' must be 1 to 32 letters, digits, '.', '_' or '-'");
        }
        if (members == null || members.isEmpty()) {
            throw new IllegalArgumentException("list the array's members");
        }
        if (!journal.enabled()) {
            throw new IllegalArgumentException("a controller of an HA pair always journals (--journal off is for serve)");
        }
        if (journal.path() == null) {
            throw new IllegalArgumentException("--nvram is required for a controller: each controller of the pair has"
                    + " its own journal file, on storage of its own");
        }
        if (ioThreads < 1) {
            throw new IllegalArgumentException("--io-threads must be at least 1");
        }
        members = List.copyOf(members);
    }
}
