package io.parityd.admin;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where admin sockets live by default, one per served array, named after it:
 * {@code /run/parityd/NAME.sock} for root (systemd's runtime directory, cleared at boot),
 * {@code $XDG_RUNTIME_DIR/parityd/NAME.sock} for another user with a session (private to that
 * user), else {@code /tmp/parityd-UID/NAME.sock}. The command-line tools look there when not told
 * a path, so the daemon and they must agree; both use this class.
 */
public final class AdminPaths {

    /** Socket file names end so; anything else in the directory is not ours to list. */
    public static final String SUFFIX = ".sock";

    /** Array names as {@code create} allows them, which also keeps a name from leaving the directory. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final Path directory;

    private AdminPaths(Path directory) {
        this.directory = directory;
    }

    /** The default socket of array {@code arrayName} for this process's user and environment. */
    public static Path defaultFor(String arrayName) {
        return fromEnvironment().socketFor(arrayName);
    }

    /** The default directory for this process's user and environment. */
    public static AdminPaths fromEnvironment() {
        return new AdminPaths(defaultDirectory(AdminAccess.currentUid(), System.getenv()));
    }

    /** Sockets in {@code directory} (tests; a deployment that keeps them elsewhere). */
    public static AdminPaths in(Path directory) {
        return new AdminPaths(directory.toAbsolutePath());
    }

    static Path defaultDirectory(int uid, Map<String, String> env) {
        if (uid == 0) {
            return Path.of("/run/parityd");
        }
        String runtime = env.get("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isEmpty() && Path.of(runtime).isAbsolute()) {
            return Path.of(runtime, "parityd");
        }
        return Path.of("/tmp", "parityd-" + uid);
    }

    public Path directory() {
        return directory;
    }

    /** {@code DIRECTORY/NAME.sock}; a name {@code create} would refuse is refused here too. */
    public Path socketFor(String arrayName) {
        if (!NAME.matcher(arrayName).matches()) {
            throw new IllegalArgumentException("'" + arrayName + "' is not an array name: use 1-64 of A-Z a-z 0-9 . _ -");
        }
        return directory.resolve(arrayName + SUFFIX);
    }

    /** The array name a socket file stands for: its file name without {@value #SUFFIX}. */
    public static String arrayNameOf(Path socket) {
        String file = socket.getFileName().toString();
        return file.endsWith(SUFFIX) ? file.substring(0, file.length() - SUFFIX.length()) : file;
    }

    /** Every {@code *.sock} in the directory, by name; none when the directory does not exist. */
    public List<Path> sockets() throws IOException {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            entries.forEach(found::add);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        found.sort(null);
        return found;
    }

    @Override
    public String toString() {
        return directory.toString();
    }
}
