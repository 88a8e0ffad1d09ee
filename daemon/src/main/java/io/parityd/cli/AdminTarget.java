package io.parityd.cli;

import io.parityd.admin.AdminClient;
import io.parityd.admin.AdminPaths;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Which running array a command talks to, shared by {@code status}, {@code fail},
 * {@code replace}, {@code add-spare} and {@code scrub}: {@code --admin-socket PATH}, or
 * {@code --name NAME} (that array's socket in the default directory), or, with neither, the one
 * socket in the default directory.
 */
final class AdminTarget {

    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private Choice choice;

    static final class Choice {
        @Option(names = "--admin-socket", paramLabel = "PATH",
                description = "The admin socket of the running parityd (as given to serve --admin-socket)")
        Path socket;

        @Option(names = "--name", paramLabel = "NAME",
                description = "The array's name: its socket in the default directory (/run/parityd for root, "
                        + "else $XDG_RUNTIME_DIR/parityd or /tmp/parityd-UID). Not needed while only one array is served here.")
        String name;
    }

    /** A client for the chosen socket; refuses when no choice was made and there is no single socket to default to. */
    AdminClient client(AdminSettings settings) throws CommandFailure {
        if (choice != null && choice.socket != null) {
            return new AdminClient(choice.socket);
        }
        if (choice != null && choice.name != null) {
            try {
                return new AdminClient(settings.paths().socketFor(choice.name));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(mixee.commandLine(), "--name " + e.getMessage());
            }
        }
        return new AdminClient(onlySocket(settings.paths()));
    }

    private static Path onlySocket(AdminPaths paths) throws CommandFailure {
        List<Path> sockets;
        try {
            sockets = paths.sockets();
        } catch (IOException e) {
            throw new CommandFailure("cannot look for admin sockets in " + paths + ": " + e.getMessage()
                    + "; name one with --admin-socket PATH", e);
        }
        if (sockets.isEmpty()) {
            throw new CommandFailure("no parityd serves an array here: no admin socket in " + paths
                    + "; is an array being served? (parityd serve), or name its socket with --admin-socket PATH");
        }
        if (sockets.size() > 1) {
            String names = sockets.stream().map(AdminPaths::arrayNameOf).collect(Collectors.joining(", "));
            throw new CommandFailure("several arrays are served here (" + names + "); say which with --name NAME");
        }
        return sockets.get(0);
    }
}
