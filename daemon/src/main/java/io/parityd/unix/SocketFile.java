package io.parityd.unix;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file of a Unix domain socket a server listens on. A socket file outlives the process that
 * bound it when that process dies, and cannot be bound again while it exists; {@link #clearStale}
 * removes such a file, but only when nobody answers on it, so a second server never steals a
 * running one's socket.
 */
public final class SocketFile {

    private static final Logger log = LoggerFactory.getLogger(SocketFile.class);

    private static final int TYPE_MASK = 0170000;
    private static final int TYPE_SOCKET = 0140000;

    private SocketFile() {
    }

    /**
     * Makes {@code path} free to bind: nothing there, or a stale socket (nobody answers) that is
     * removed. Refuses a live socket and anything that is not a socket.
     *
     * @param option the command-line option that chooses the path, named in the refusal
     */
    public static void clearStale(Path path, String option) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!isSocket(path)) {
            throw new IOException(path + " exists and is not a socket; remove it or choose another " + option + " path");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            throw new IOException("another server is listening on " + path + "; stop it or choose another " + option + " path");
        } catch (ConnectException stale) {
            log.info("removing stale socket {}", path);
            Files.delete(path);
        }
    }

    /** Whether {@code path} is a socket (not following a link). */
    public static boolean isSocket(Path path) throws IOException {
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (mode & TYPE_MASK) == TYPE_SOCKET;
    }

    /** Removes the socket file of a server that stopped; a failure is logged, not thrown, as nothing depends on it. */
    public static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.warn("could not remove socket {}: {}", path, e.toString());
        }
    }
}
