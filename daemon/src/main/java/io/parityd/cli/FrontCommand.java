package io.parityd.cli;

import io.parityd.front.FrontConfig;
import io.parityd.link.LinkSecret;
import io.parityd.replication.Links;
import io.parityd.service.FrontService;
import io.parityd.service.FrontSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code parityd front}: the NBD server of an HA pair, until SIGTERM. */
@Command(name = "front",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Run the front of an HA pair: the NBD server clients use.",
        description = {
            "Run the front of an HA pair: the NBD server clients attach to. It touches no member; it sends"
                    + " every write to both controllers, reads to the primary, and decides who is primary: when the"
                    + " primary is silent longer than the lease it fences it (SIGKILL on this host, --fence-command"
                    + " elsewhere; never a promotion without a successful fence), promotes the standby and resends"
                    + " every unanswered request, so clients see a stall, not an error. Options may also come from a"
                    + " file: parityd front @/etc/parityd/front.conf (one option per line)."},
        footer = {"", "Example:",
            "  parityd front --listen 0.0.0.0:10809 \\",
            "      --controller a=127.0.0.1:10810 --controller b=127.0.0.1:10811 \\",
            "      --secret-file /etc/parityd/secret"})
final class FrontCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private ServeCommand.Endpoint endpoint;

    @Mixin
    private NbdServerOptions nbd;

    @Option(names = "--controller", required = true, paramLabel = "ID=HOST:PORT",
            description = "A controller of the pair: its --id and its --listen (or --advertise) address; give it twice")
    private List<String> controllers;

    @Option(names = "--admin-socket", paramLabel = "PATH",
            description = "Unix socket for parityd status (default: /run/parityd/NAME-front.sock as root, else under"
                    + " $XDG_RUNTIME_DIR or /tmp)")
    private Path adminSocket;

    @Option(names = "--metrics", paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics (default: off; e.g. 127.0.0.1:9810)")
    private String metrics;

    @Option(names = "--link-tls-certificates", paramLabel = "DIR",
            description = "Mutual TLS on the links to the controllers: DIR holds ca-cert.pem, server-cert.pem and"
                    + " server-key.pem, as for the controllers' option of the same name")
    private java.nio.file.Path linkTlsCertificates;

    @Option(names = "--secret-file", required = true, paramLabel = "PATH",
            description = "The pair's shared secret (the same file the controllers read), mode 0600")
    private Path secretFile;

    @Option(names = "--lease", paramLabel = "DURATION", defaultValue = "500ms",
            description = "How long a controller may be silent before the front gives up on it, e.g. 500ms, 2s"
                    + " (default: ${DEFAULT-VALUE})")
    private String lease;

    @Option(names = "--fence-command", paramLabel = "ARG", arity = "1..*",
            description = "Command that fences a controller on another host (its id, pid and address come in"
                    + " PARITYD_FENCE_ID, PARITYD_FENCE_PID, PARITYD_FENCE_ADDRESS); exit status 0 means fenced")
    private List<String> fenceCommand = new ArrayList<>();

    @Option(names = "--array-uuid", paramLabel = "UUID",
            description = "The array this front serves (default: what the first controller says; `parityd examine`"
                    + " shows it)")
    private UUID arrayUuid;

    @Override
    public Integer call() throws Exception {
        FrontConfig front = nbd.frontConfig(spec); // usage errors before any file is read
        FrontSettings settings;
        try {
            Map<String, InetSocketAddress> pair = new LinkedHashMap<>();
            for (String c : controllers) {
                int eq = c.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--controller '" + c + "' is not ID=HOST:PORT");
                }
                if (pair.put(c.substring(0, eq), Links.parse(c.substring(eq + 1), "--controller " + c)) != null) {
                    throw new IllegalArgumentException("--controller " + c.substring(0, eq) + " is given twice");
                }
            }
            settings = new FrontSettings(ServeCommand.listenAddress(endpoint, spec), pair, LinkSecret.load(secretFile),
                    parseDuration(lease, "--lease"), fenceCommand, arrayUuid, front,
                    adminSocket == null ? null : adminSocket.toAbsolutePath(),
                    metrics == null ? null : Links.parse(metrics, "--metrics"),
                    linkTlsCertificates == null ? null
                            : io.parityd.tls.TlsCertificates.link(linkTlsCertificates.toAbsolutePath()));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        } catch (IOException e) {
            throw new CommandFailure(e.getMessage(), e);
        }
        Shutdown shutdown = Shutdown.onSignals();
        FrontService service;
        try {
            // It waits for a controller as long as it takes (the controllers may start later), but
            // not past a stop.
            service = FrontService.start(settings, Duration.ofDays(3650), shutdown::requested);
        } catch (IOException e) {
            throw new CommandFailure(e.getMessage(), e);
        }
        if (service == null) {
            return 0; // stopped before any controller answered
        }
        try (service) {
            shutdown.await();
        }
        return 0;
    }

    /** "500ms", "2s", "1m", or a bare number of milliseconds. */
    static Duration parseDuration(String text, String option) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
            }
            if (t.endsWith("m")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
            }
            return Duration.ofMillis(Long.parseLong(t));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " '" + text + "' is not a duration such as 500ms or 2s");
        }
    }
}
