package io.parityd.cli;

import io.parityd.front.FrontConfig;
import io.parityd.front.ListenAddress;
import io.parityd.raid.ArrayException;
import io.parityd.service.ServeSettings;
import io.parityd.service.SingleProcessService;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code parityd serve}: assembles an array from its members and serves it over NBD until SIGTERM. */
@Command(name = "serve",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Serve an array over NBD in single-process mode (front and controller in one process).",
            "Members may be listed in any order; their superblocks must agree. The export name is the volume",
            "name, and the empty name reaches it too. SIGTERM or SIGINT: in-flight requests finish, everything is",
            "flushed, the array is marked clean, exit status 0."},
        footer = {"", "Example:", "  parityd serve --listen 0.0.0.0:10809 /srv/parityd/m0.img /srv/parityd/m1.img /srv/parityd/m2.img",
            "  nbd-client -N vol0 HOST 10809 /dev/nbd0"})
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

    @Option(names = "--io-threads", paramLabel = "N", defaultValue = "" + ServeSettings.DEFAULT_IO_THREADS,
            description = "Threads doing member I/O (default: ${DEFAULT-VALUE})")
    private int ioThreads;

    @Parameters(arity = "1..*", paramLabel = "MEMBER", description = "All member files of the array, in any order")
    private List<Path> members;

    @Override
    public Integer call() throws Exception {
        ServeSettings settings = new ServeSettings(members, listenAddress(endpoint, spec), ioThreads, FrontConfig.DEFAULT);
        return serveUntilSignalled(settings, service -> { });
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
