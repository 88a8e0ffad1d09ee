package io.parityd.cli;

import io.parityd.block.FaultSpec;
import io.parityd.front.ListenAddress;
import io.parityd.nvram.JournalMode;
import io.parityd.nvram.JournalOptions;
import io.parityd.raid.ArrayException;
import io.parityd.raid.MemberScan;
import io.parityd.service.JournalSettings;
import io.parityd.service.ServeSettings;
import io.parityd.service.SingleProcessService;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code parityd serve}: assembles an array from its members and serves it over NBD until SIGTERM. */
@Command(name = "serve",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Serve an array over NBD: front and controller in one process.",
        description = {
            "Serve an array over NBD in single-process mode (front and controller in one process).",
            "Members may be listed in any order; their superblocks must agree. The export name is the volume"
                    + " name, and the empty name reaches it too. SIGTERM or SIGINT: in-flight requests finish,"
                    + " everything is flushed, the array is marked clean, exit status 0."},
        footer = {"", "Example:",
            "  parityd serve --listen 0.0.0.0:10809 \\",
            "      /srv/parityd/m0.img /srv/parityd/m1.img /srv/parityd/m2.img",
            "  nbd-client -N vol0 HOST 10809 /dev/nbd0",
            "", "By UUID, finding the current members (after a replace, a spare's takeover):",
            "  parityd serve --uuid 0b7c3f1e-5a2d-4c8e-9f61-2d4e8a7b3c10 \\",
            "      --scan /srv/parityd"})
final class ServeCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private Endpoint endpoint;

    static final class Endpoint {
        @Option(names = "--listen", paramLabel = "HOST:PORT",
                description = "TCP address to listen on (default: 127.0.0.1:10809; port 0 picks a free port)")
        String listen;

        @Option(names = "--socket", paramLabel = "PATH", description = "Listen on a Unix domain socket instead of TCP")
        Path socket;
    }

    @Mixin
    private NbdServerOptions nbd;

    @Option(names = "--io-threads", paramLabel = "N", defaultValue = "" + ServeSettings.DEFAULT_IO_THREADS,
            description = "Threads doing member I/O (default: ${DEFAULT-VALUE})")
    private int ioThreads;

    @Option(names = "--admin-socket", paramLabel = "PATH",
            description = "Unix socket for status, fail, replace, add-spare and scrub"
                    + " (default: /run/parityd/NAME.sock as root, else under $XDG_RUNTIME_DIR or /tmp)")
    private Path adminSocket;

    @Option(names = "--metrics", paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics (default: off; e.g. 127.0.0.1:9810)")
    private String metrics;

    @Option(names = "--rebuild-max-rate", paramLabel = "RATE", converter = Sizes.class, defaultValue = "0",
            description = "Most bytes per second a rebuild writes to its new member, e.g. 200M, so clients keep"
                    + " the disks (default: no limit)")
    private long rebuildRate;

    @ArgGroup(exclusive = false, multiplicity = "0..1", heading = "%nWrite journal:%n")
    private JournalOptionsGroup journal;

    /** The journal options, shared with {@code demo}. */
    static final class JournalOptionsGroup {
        @Option(names = "--nvram", paramLabel = "PATH",
                description = "The write journal file (default: NAME.nvram beside the first member file; for block"
                        + " devices $STATE_DIRECTORY or /var/lib/parityd). Put it on the fastest durable storage you have.")
        Path path;

        @Option(names = "--nvram-size", paramLabel = "SIZE", converter = Sizes.class,
                defaultValue = "" + JournalOptions.DEFAULT_CAPACITY,
                description = "Write data the journal holds before new requests wait for room, e.g. 512M"
                        + " (default: 256M). A full journal slows clients down; it never fails them.")
        long size = JournalOptions.DEFAULT_CAPACITY;

        @Option(names = "--nvram-nonvolatile",
                description = "Declare the journal's placement non-volatile (a DAX/pmem mount, or tmpfs on a UPS-backed"
                        + " host): records are not synced before member writes. Unsafe on an ordinary disk.")
        boolean nonVolatile;

        @Option(names = "--journal", paramLabel = "MODE",
                description = "What the journal holds. commands (the default): each write's range and durable"
                        + " dirty-region marks, never its data; a write is answered once the members have it, and"
                        + " recovery resyncs only those stripes. data: each write's data too, answered once"
                        + " journaled; wins only with the journal on a faster device (pmem, tmpfs declared"
                        + " non-volatile). off: no journal, as md without one; a crash forces a full resync."
                        + " A start in another mode first finishes what the journal holds.")
        String mode;

        @Option(names = "--journal-region", paramLabel = "SIZE", converter = Sizes.class,
                defaultValue = "" + JournalSettings.DEFAULT_REGION_BYTES,
                description = "Size of a dirty region in commands mode, a power of two, e.g. 64M (default: 16M). A"
                        + " write to a marked region needs no journal sync; recovery resyncs every marked region.")
        long region = JournalSettings.DEFAULT_REGION_BYTES;

        @Option(names = "--no-journal", hidden = true,
                description = "Deprecated: --journal off.")
        boolean disabled;

        @Option(names = "--discard-journal",
                description = "Drop whatever the journal holds instead of replaying it (when it is lost or damaged):"
                        + " writes it held may be lost, and every stripe's parity is resynced.")
        boolean discard;
    }

    static JournalSettings journalSettings(JournalOptionsGroup group, CommandSpec spec) {
        if (group == null) {
            return JournalSettings.DEFAULT;
        }
        try {
            String mode = group.mode == null ? (group.disabled ? "off" : "commands") : group.mode;
            if (group.disabled) {
                if (!mode.equals("off")) {
                    throw new IllegalArgumentException("--no-journal (deprecated: --journal off) contradicts --journal "
                            + group.mode);
                }
                org.slf4j.LoggerFactory.getLogger(ServeCommand.class).warn("--no-journal is deprecated: use --journal off");
            }
            boolean enabled = !mode.equals("off");
            JournalMode journalMode = enabled ? journalMode(mode) : JournalMode.COMMANDS;
            return new JournalSettings(enabled, group.path == null ? null : group.path.toAbsolutePath(),
                    group.size, group.nonVolatile, group.discard, journalMode, group.region);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** "commands" or "data"; anything else is refused by name. */
    static JournalMode journalMode(String word) {
        try {
            return JournalMode.fromWord(word);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--journal '" + word + "' is not a journal mode: use commands (the"
                    + " default), data or off");
        }
    }

    @Option(names = "--force",
            description = "Start a degraded array that was not shut down cleanly (stripes being written at the crash"
                    + " may rebuild wrong), or a failed one from the members that dropped out last (like mdadm"
                    + " --assemble --force)")
    private boolean force;

    /** Test and drill aid: wraps members in fault-injecting layers (grammar: FaultSpec). Hidden from help. */
    @Option(names = "--fault-inject", paramLabel = "SPEC", hidden = true)
    private List<String> faults = new java.util.ArrayList<>();

    @Option(names = "--uuid", paramLabel = "UUID",
            description = "Serve the array with this UUID (`parityd examine` prints it): MEMBER arguments are"
                    + " candidates, and each slot's current member is picked from them by its superblock; replaced"
                    + " members, old copies and other arrays' members are left out, each named in the log")
    private java.util.UUID uuid;

    @Option(names = "--scan",
            description = "MEMBER arguments may be directories: their files and block devices are candidates"
                    + " (picked as with --uuid; without it they must hold a single array)")
    private boolean scan;

    @Parameters(arity = "1..*", paramLabel = "MEMBER",
            description = "All members (and spares) of the array, in any order; with --uuid or --scan, places to"
                    + " look for them")
    private List<Path> members;

    @Override
    public Integer call() throws Exception {
        List<Path> members = uuid != null || scan ? scanned(uuid, this.members, scan) : this.members;
        ServeSettings settings = new ServeSettings(members, listenAddress(endpoint, spec), ioThreads, nbd.frontConfig(spec),
                adminSocket == null ? null : adminSocket.toAbsolutePath(), force, faultSpecs(faults, spec), rebuildRate,
                journalSettings(journal, spec),
                metricsAddress(metrics, spec));
        return serveUntilSignalled(settings, service -> { });
    }

    /** The members {@code --uuid}/{@code --scan} pick among {@code places}, with every decision logged. */
    static List<Path> scanned(java.util.UUID uuid, List<Path> places, boolean directories) throws CommandFailure {
        try {
            return MemberScan.current(java.util.Optional.ofNullable(uuid), places, directories);
        } catch (ArrayException e) {
            throw new CommandFailure(e.getMessage(), e);
        }
    }

    /** {@code --metrics HOST:PORT}, or null when not given. */
    static java.net.InetSocketAddress metricsAddress(String text, CommandSpec spec) {
        if (text == null) {
            return null;
        }
        try {
            return io.parityd.replication.Links.parse(text, "--metrics");
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    static List<FaultSpec> faultSpecs(List<String> texts, CommandSpec spec) {
        List<FaultSpec> parsed = new java.util.ArrayList<>();
        for (String text : texts) {
            try {
                parsed.addAll(FaultSpec.parseAll(text));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--fault-inject " + e.getMessage());
            }
        }
        return parsed;
    }

    static ListenAddress listenAddress(Endpoint endpoint, CommandSpec spec) {
        if (endpoint != null && endpoint.socket != null) {
            return new ListenAddress.Unix(endpoint.socket.toAbsolutePath());
        }
        String text = endpoint == null || endpoint.listen == null ? "127.0.0.1:" + ListenAddress.NBD_PORT : endpoint.listen;
        try {
            return ListenAddress.parseTcp(text);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--listen " + e.getMessage());
        }
    }

    /**
     * Starts the service, tells {@code started} about it, waits for SIGTERM or SIGINT, then stops
     * it in order. Shared with {@code demo}.
     */
    static int serveUntilSignalled(ServeSettings settings, Consumer<SingleProcessService> started) throws Exception {
        Shutdown shutdown = Shutdown.onSignals();
        SingleProcessService service;
        try {
            service = SingleProcessService.start(settings);
        } catch (ArrayException e) {
            throw new CommandFailure(e.getMessage(), e);
        }
        try (service) {
            started.accept(service);
            shutdown.await();
        }
        return 0;
    }
}
