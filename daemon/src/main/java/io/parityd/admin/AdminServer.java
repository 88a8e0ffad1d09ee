package io.parityd.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.parityd.unix.SocketFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin socket of a running array (DESIGN.md "Observability and operations"): a Unix domain
 * socket on which {@code parityd status}, {@code fail}, {@code replace}, {@code add-spare} and
 * {@code scrub} reach the {@link ArrayControl}, in the line-per-message JSON of
 * {@link AdminProtocol}.
 *
 * <p>Only root and the daemon's user may use it, said three times: the directory is made 0700
 * when this creates it (and an existing one must belong to root or the daemon's user), the socket
 * is 0600 from right after binding, and every connection's peer credentials are checked against
 * {@link AdminAccess}. A stale socket file is replaced and a live one refused, as for the NBD
 * socket ({@link SocketFile}). Requests run on a small executor, never on the event loop.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    /** Threads running requests: operators are few, and a long control call must not block {@code status}. */
    private static final int REQUEST_THREADS = 2;

    /** sun_path holds 108 bytes with its terminating NUL. */
    private static final int MAX_SOCKET_PATH_BYTES = 107;

    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_ONLY_SOCKET = PosixFilePermissions.fromString("rw-------");

    private final Path socket;
    private final EventLoopGroup loop;
    private final ExecutorService requests;
    private final ChannelGroup connections = new DefaultChannelGroup("parityd-admin", GlobalEventExecutor.INSTANCE);
    private final Channel serverChannel;
    private boolean closed;

    private AdminServer(Path socket, ArrayControl control, AdminAccess access) throws IOException {
        this.socket = socket;
        ObjectMapper json = new ObjectMapper();
        AdminDispatcher dispatcher = new AdminDispatcher(control, json);
        this.loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("parityd-admin-io", true), EpollIoHandler.newFactory());
        this.requests = Executors.newFixedThreadPool(REQUEST_THREADS, new DefaultThreadFactory("parityd-admin", true));
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(loop)
                .channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(new LineBasedFrameDecoder(AdminProtocol.MAX_REQUEST_BYTES, true, true),
                                new AdminConnection(dispatcher, json, requests, access, socket));
                    }
                });
        try {
            this.serverChannel = bootstrap.bind(new DomainSocketAddress(socket.toFile())).syncUninterruptibly().channel();
        } catch (Exception e) {
            stopThreads();
            throw new IOException("cannot listen on " + socket + ": " + e.getMessage(), e);
        }
    }

    /** Serves {@code control} on {@code socket} to root and the user this process runs as. */
    public static AdminServer start(Path socket, ArrayControl control) throws IOException {
        return start(socket, control, AdminAccess.rootAndDaemonUser());
    }

    /** Serves {@code control} on {@code socket} to the callers {@code access} allows. */
    public static AdminServer start(Path socket, ArrayControl control, AdminAccess access) throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("the admin socket needs Netty's epoll transport, which is unavailable here: "
                    + Epoll.unavailabilityCause());
        }
        Path path = socket.toAbsolutePath().normalize();
        if (path.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH_BYTES) {
            throw new IOException(path + " is longer than the " + MAX_SOCKET_PATH_BYTES
                    + " bytes a Unix socket path may have; choose a shorter --admin-socket path");
        }
        prepareDirectory(path.getParent());
        SocketFile.clearStale(path, "--admin-socket");
        AdminServer server = new AdminServer(path, control, access);
        try {
            Files.setPosixFilePermissions(path, OWNER_ONLY_SOCKET);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw new IOException("cannot make " + path + " private (mode 0600): " + e.getMessage(), e);
        }
        log.info("admin socket listening on {}", path);
        return server;
    }

    /**
     * Creates the socket's directory 0700 if it is missing. An existing one is left as it is (it
     * may be systemd's RuntimeDirectory), but must belong to root or to us: whoever owns the
     * directory can replace the socket in it.
     */
    private static void prepareDirectory(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
            Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR); // the umask may have taken bits away
            log.info("created {} (mode 0700) for the admin socket", dir);
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + " is not a directory; choose another --admin-socket path");
        }
        int owner = (Integer) Files.getAttribute(dir, "unix:uid");
        int self = AdminAccess.currentUid();
        if (owner != 0 && owner != self) {
            throw new IOException(dir + " belongs to uid " + owner + ", who could replace the admin socket in it; "
                    + "remove it or choose another --admin-socket path");
        }
    }

    /** The socket's absolute path. */
    public Path socket() {
        return socket;
    }

    /** Stops accepting, closes every connection (requests running finish first, up to a few seconds), removes the socket file. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        serverChannel.close().syncUninterruptibly();
        connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        stopThreads();
        SocketFile.deleteQuietly(socket);
        log.info("admin socket {} closed", socket);
    }

    private void stopThreads() {
        requests.shutdown();
        try {
            if (!requests.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("admin requests still running after 5 s; abandoning them");
                requests.shutdownNow();
            }
        } catch (InterruptedException e) {
            requests.shutdownNow();
            Thread.currentThread().interrupt();
        }
        loop.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    @Override
    public String toString() {
        return "AdminServer[" + socket + ", " + connections.size() + " connections]";
    }
}
