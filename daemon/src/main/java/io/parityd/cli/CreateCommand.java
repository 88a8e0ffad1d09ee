package io.parityd.cli;

import io.parityd.raid.ArrayCreator;
import io.parityd.raid.ArrayException;
import io.parityd.raid.ArrayGeometry;
import io.parityd.raid.CreateResult;
import io.parityd.raid.CreateSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code parityd create}: writes a new array's superblocks to its members. */
@Command(name = "create",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Create a new RAID-0, 1, 4, 5 or 6 array on member files.",
        description = {
            "Create a new RAID-0, 1, 4, 5 or 6 array on MEMBER files (or, later, block devices).",
            "Members that do not exist are created as sparse files of --size; existing files are used as they are,"
                    + " and the smallest member decides the size. Every member gets a superblock; the volume reads as"
                    + " zeroes. Nothing is written unless every check passes."},
        footer = {"", "Example:",
            "  parityd create --name vol0 --size 10G \\",
            "      /srv/parityd/m0.img /srv/parityd/m1.img /srv/parityd/m2.img"})
final class CreateCommand implements Callable<Integer> {

    /**
     * 64 KiB: a 1 MiB client write on a five-member array covers four whole stripes, so it
     * needs no reads at all, while a 4 KiB write still reads only 8 KiB. md's 512 KiB would make
     * that 1 MiB write a half stripe. Measured in bench/fio-vs-nbdkit.sh (README "Performance").
     */
    static final String DEFAULT_CHUNK = "64K";

    @Spec
    private CommandSpec spec;

    @Option(names = "--name", required = true, paramLabel = "NAME",
            description = "Volume name, also the NBD export name: 1-64 of A-Z a-z 0-9 . _ -")
    private String name;

    @Option(names = "--level", defaultValue = "5", paramLabel = "LEVEL",
            description = "RAID level: 0, 1, 4, 5 or 6 (default: ${DEFAULT-VALUE})")
    private int level;

    @Option(names = "--chunk", defaultValue = DEFAULT_CHUNK, paramLabel = "SIZE", converter = Sizes.class,
            description = "Chunk size, a power of two of at least 4K (default: ${DEFAULT-VALUE})")
    private long chunk;

    @Option(names = "--size", paramLabel = "SIZE", converter = Sizes.class,
            description = "Size of member files that do not exist yet, e.g. 10G (created sparse)")
    private Long size;

    @Option(names = "--force",
            description = "Overwrite members that already hold a parityd superblock (destroys that array)")
    private boolean force;

    @Option(names = "--spare", paramLabel = "PATH",
            description = "A hot spare, used automatically when a member fails (repeatable; created like members)")
    private List<Path> spares = new java.util.ArrayList<>();

    @Parameters(arity = "1..*", paramLabel = "MEMBER",
            description = "Member files; slot = position. At least 2 (RAID-0, 1), 3 (RAID-4, 5) or 4 (RAID-6)")
    private List<Path> members;

    @Override
    public Integer call() throws CommandFailure {
        if (chunk > Integer.MAX_VALUE) {
            throw new CommandFailure("--chunk " + Sizes.format(chunk) + " is too large; use a power of two such as 64K or 512K");
        }
        CreateSpec request = new CreateSpec(name, level, (int) chunk,
                size == null ? OptionalLong.empty() : OptionalLong.of(size), members, force, spares);
        CreateResult result;
        try {
            result = new ArrayCreator(Clock.systemUTC()).create(request);
        } catch (ArrayException e) {
            throw new CommandFailure(e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        result.warnings().forEach(w -> err.println("parityd create: warning: " + w));
        ArrayGeometry g = result.geometry();
        out.printf("created RAID-%d array '%s' (%s): %d members of %s, chunk %s, %s usable%n",
                g.level(), g.name(), g.arrayUuid(), g.memberCount(), Sizes.format(g.memberDataSize()),
                Sizes.format(g.chunkSize()), Sizes.format(g.volumeSize()));
        if (!spares.isEmpty()) {
            out.printf("hot spares: %s%n", String.join(" ", spares.stream().map(Path::toString).toList()));
        }
        List<Path> all = new java.util.ArrayList<>(result.members());
        all.addAll(spares);
        out.printf("serve it with: parityd serve %s%n", String.join(" ", all.stream().map(Path::toString).toList()));
        out.flush();
        err.flush();
        return 0;
    }
}
