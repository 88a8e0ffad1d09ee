package io.parityd.cli;

import io.parityd.link.LinkSecret;
import io.parityd.raid.ArrayException;
import io.parityd.replication.ControllerSettings;
import io.parityd.replication.Links;
import io.parityd.service.ControllerService;
import io.parityd.service.JournalSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code parityd controller}: one controller of an HA pair, until SIGTERM. */
@Command(name = "controller",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Run one controller of an HA pair (see `parityd front`).",
        description = {
            "Run one controller of an HA pair (see `parityd front`). It keeps its own write journal and plays"
                    + " the role the front assigns: standby (holds every write until the primary has it on the"
                    + " members) or primary (the one writer of the members). Run two, each with its own --id and"
                    + " --nvram, on members both can reach. SIGTERM: a primary finishes what is under way, marks the"
                    + " array clean and exits 0; the front promotes the other. Options may also come from a file:"
                    + " parityd controller @/etc/parityd/controller-a.conf (one option per line)."},
        footer = {"", "Example:",
            "  parityd controller --id a --listen 127.0.0.1:10810 \\",
            "      --nvram /var/lib/parityd/a.nvram --secret-file /etc/parityd/secret \\",
            "      /srv/parityd/m0.img /srv/parityd/m1.img /srv/parityd/m2.img"})
final class ControllerCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--id", required = true, paramLabel = "ID",
            description = "This controller's name in the pair, e.g. a or b (letters, digits, . _ -)")
    private String id;

    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT",
            description = "Where the front and the other controller connect")
    private String listen;

    @Option(names = "--advertise", paramLabel = "HOST:PORT",
            description = "The address the other controller dials to reach this one (default: --listen; required"
                    + " when --listen is a wildcard such as 0.0.0.0)")
    private String advertise;

    @Option(names = "--nvram", required = true, paramLabel = "PATH",
            description = "This controller's own write journal file (never shared with the other controller)")
    private Path nvram;

    @Option(names = "--nvram-size", paramLabel = "SIZE", converter = Sizes.class,
            defaultValue = "" + io.parityd.nvram.JournalOptions.DEFAULT_CAPACITY,
            description = "Write data the journal holds before new requests wait for room (default: 256M)")
    private long nvramSize;

    @Option(names = "--nvram-nonvolatile",
            description = "Declare the journal's placement non-volatile (DAX/pmem, or tmpfs on a UPS-backed host)")
    private boolean nonVolatile;

    @Option(names = "--journal", paramLabel = "MODE", defaultValue = "commands",
            description = "What the journals hold: commands (the default: each write's range and dirty-region marks;"
                    + " the standby gets only those from the primary) or data (each write's bytes too, sent to the"
                    + " standby as well). Both controllers of a pair must use the same.")
    private String journalMode;

    @Option(names = "--journal-region", paramLabel = "SIZE", converter = Sizes.class,
            defaultValue = "" + JournalSettings.DEFAULT_REGION_BYTES,
            description = "Size of a dirty region in commands mode, a power of two (default: 16M)")
    private long region;

    @Option(names = "--admin-socket", paramLabel = "PATH",
            description = "Unix socket for parityd status (default: /run/parityd/NAME-ID.sock as root, else under"
                    + " $XDG_RUNTIME_DIR or /tmp)")
    private Path adminSocket;

    @Option(names = "--metrics", paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics (default: off; e.g. 127.0.0.1:9810)")
    private String metrics;

    @Option(names = "--secret-file", required = true, paramLabel = "PATH",
            description = "The pair's shared secret: at least 32 bytes and not obviously weak (README \"HA mode\"),"
                    + " mode 0600, owned by the user running parityd or root (make one with: head -c 32"
                    + " /dev/urandom | base64 > FILE; chmod 600 FILE)")
    private Path secretFile;

    @Option(names = "--link-tls-certificates", paramLabel = "DIR",
            description = "Mutual TLS on the links to the front and the other controller: DIR holds ca-cert.pem,"
                    + " server-cert.pem and server-key.pem (the certificate presented both ways). Every node of the"
                    + " pair needs it; a peer linking without TLS is refused by name. The shared secret stays a"
                    + " second check")
    private Path linkTlsCertificates;

    @Option(names = "--io-threads", paramLabel = "N", defaultValue = "16",
            description = "Threads doing member I/O while primary (default: ${DEFAULT-VALUE})")
    private int ioThreads;

    @Option(names = "--uuid", paramLabel = "UUID",
            description = "The array's UUID: MEMBER arguments are candidates, and each slot's current member is"
                    + " picked from them at the start and at each promotion, as serve --uuid does")
    private java.util.UUID uuid;

    @Option(names = "--scan", description = "MEMBER arguments may be directories: their files and block devices are"
            + " candidates")
    private boolean scan;

    @Parameters(arity = "1..*", paramLabel = "MEMBER",
            description = "All members of the array, in any order; with --uuid or --scan, places to look for them")
    private List<Path> members;

    @Override
    public Integer call() throws Exception {
        ControllerSettings settings;
        try {
            InetSocketAddress address = Links.parse(listen, "--listen");
            if (advertise == null && address.getAddress() != null && address.getAddress().isAnyLocalAddress()) {
                throw new IllegalArgumentException("--listen " + listen + " is a wildcard: add --advertise HOST:PORT,"
                        + " the address the other controller dials");
            }
            if (advertise != null) {
                Links.parse(advertise, "--advertise");
            }
            if (journalMode.equals("off")) {
                throw new IllegalArgumentException("--journal off is for serve: a controller of an HA pair always"
                        + " journals (its standby could not take over otherwise)");
            }
            JournalSettings journal = new JournalSettings(true, nvram.toAbsolutePath(), nvramSize, nonVolatile, false,
                    ServeCommand.journalMode(journalMode), region);
            settings = new ControllerSettings(id, address, advertise, absolute(members), journal,
                    LinkSecret.load(secretFile), ioThreads, ControllerSettings.DEFAULT_PROMOTE_WAIT,
                    adminSocket == null ? null : adminSocket.toAbsolutePath(),
                    metrics == null ? null : Links.parse(metrics, "--metrics"), uuid, scan,
                    linkTlsCertificates == null ? null
                            : io.parityd.tls.TlsCertificates.link(linkTlsCertificates.toAbsolutePath()));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        } catch (IOException e) {
            throw new CommandFailure(e.getMessage(), e);
        }
        Shutdown shutdown = Shutdown.onSignals();
        ControllerService service;
        try {
            service = ControllerService.start(settings, () -> Runtime.getRuntime().halt(3));
        } catch (ArrayException e) {
            throw new CommandFailure(e.getMessage(), e);
        }
        try (service) {
            shutdown.await();
        }
        return 0;
    }

    static List<Path> absolute(List<Path> paths) {
        return paths.stream().map(Path::toAbsolutePath).toList();
    }
}
