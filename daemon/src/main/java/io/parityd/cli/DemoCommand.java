package io.parityd.cli;

import io.parityd.front.FrontConfig;
import io.parityd.front.ListenAddress;
import io.parityd.raid.ArrayCreator;
import io.parityd.raid.ArrayException;
import io.parityd.raid.CreateSpec;
import io.parityd.service.ServeSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code parityd demo}: the one command a newcomer runs. Creates a RAID-5 array on sparse files
 * in a scratch directory the first time, then serves it on localhost; later runs serve the same
 * files again, so data written in one run is there in the next.
 */
@Command(name = "demo",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Create (first run) and serve a demo RAID-5 on localhost.",
        description = {
            "Create (first run) and serve a demo RAID-5 volume named 'demo' on sparse member files, on localhost.",
            "The files take no space until written. Stop with Ctrl-C; run again to serve the same volume."})
final class DemoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Where the member files live (default: $TMPDIR/parityd-demo, or /tmp/parityd-demo)")
    private Path dir;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private ServeCommand.Endpoint endpoint;

    @Option(names = "--members", defaultValue = "5", paramLabel = "N", description = "Member files (default: ${DEFAULT-VALUE})")
    private int memberCount;

    @Option(names = "--member-size", defaultValue = "1G", paramLabel = "SIZE", converter = Sizes.class,
            description = "Size of each member file (default: ${DEFAULT-VALUE})")
    private long memberSize;

    @Override
    public Integer call() throws Exception {
        Path home = dir != null ? dir : Path.of(System.getenv().getOrDefault("TMPDIR", "/tmp"), "parityd-demo");
        List<Path> members = new ArrayList<>();
        for (int i = 0; i < memberCount; i++) {
            members.add(home.resolve("member-" + i + ".img"));
        }
        PrintWriter out = spec.commandLine().getOut();
        prepare(home, members, out);
        ServeSettings settings = new ServeSettings(members, ServeCommand.listenAddress(endpoint, spec),
                ServeSettings.DEFAULT_IO_THREADS, FrontConfig.DEFAULT,
                io.parityd.service.JournalSettings.DEFAULT.at(home.resolve("demo.nvram").toAbsolutePath()));
        return ServeCommand.serveUntilSignalled(settings, service -> {
            String uri = service.uri();
            out.printf("%nparityd demo: serving %s RAID-5 volume 'demo' on %d files in %s%n",
                    Sizes.format(service.geometry().volumeSize()), members.size(), home);
            out.printf("  look at it:    nbdinfo %s%n", uri);
            out.printf("  use it:        mkdir -p /mnt/demo && nbdfuse /mnt/demo %s && mkfs.ext4 /mnt/demo/nbd%n", uri);
            if (service.address() instanceof ListenAddress.Tcp tcp) {
                out.printf("  or, with the kernel's nbd module:  nbd-client -N demo %s %d /dev/nbd0%n", tcp.host(), tcp.port());
            }
            out.printf("  write journal: %s%n", home.resolve("demo.nvram"));
            out.printf("  stop:          Ctrl-C (the volume is kept; run 'parityd demo' again to serve it)%n%n");
            out.flush();
        });
    }

    private void prepare(Path home, List<Path> members, PrintWriter out) throws CommandFailure, IOException {
        long present = members.stream().filter(Files::exists).count();
        if (present == members.size()) {
            return;
        }
        if (present > 0) {
            throw new CommandFailure(home + " holds " + present + " of the " + members.size()
                    + " demo member files; remove the directory to start afresh (rm -r " + home + ")");
        }
        Files.createDirectories(home);
        try {
            new ArrayCreator(Clock.systemUTC()).create(new CreateSpec("demo", 5, (int) Sizes.parse(CreateCommand.DEFAULT_CHUNK),
                    OptionalLong.of(memberSize), members, false));
        } catch (ArrayException e) {
            throw new CommandFailure(e.getMessage(), e);
        }
        out.printf("parityd demo: created a RAID-5 array on %d sparse files of %s in %s%n", members.size(), Sizes.format(memberSize), home);
    }
}
