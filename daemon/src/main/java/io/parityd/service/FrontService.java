package io.parityd.service;

import io.netty.channel.EventLoopGroup;
import io.parityd.front.ClusterFront;
import io.parityd.front.ListenAddress;
import io.parityd.front.NbdServer;
import io.parityd.front.VolumeExport;
import io.parityd.link.ArrayInfo;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front process of an HA pair (DESIGN.md "Processes"): the NBD server, joined to the two
 * controllers through a {@link ClusterFront}. It touches no member: what it exports (name and
 * size) it learns from the first controller it reaches, and it starts listening for clients only
 * then. Start order is links, then the NBD server; {@link #close()} runs it backwards.
 */
public final class FrontService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FrontService.class);

    private final ClusterFront cluster;
    private final NbdServer server;
    private final io.parityd.admin.AdminServer admin;
    private final io.parityd.metrics.Metrics metrics;

    private FrontService(ClusterFront cluster, NbdServer server, io.parityd.admin.AdminServer admin,
                         io.parityd.metrics.Metrics metrics) {
        this.metrics = metrics;
        this.cluster = cluster;
        this.server = server;
        this.admin = admin;
    }

    /**
     * Connects to the controllers and, once one has said what the array is, serves it.
     *
     * @param wait    how long to wait for a controller to answer before giving up (logged every 10 s)
     * @param stopped whether a stop was asked for meanwhile: then it returns null at once
     */
    public static FrontService start(FrontSettings settings, Duration wait, java.util.function.BooleanSupplier stopped)
            throws IOException, InterruptedException {
        CompletableFuture<ArrayInfo> known = new CompletableFuture<>();
        ClusterFront cluster = ClusterFront.start(settings.controllers(), settings.secret(), settings.linkTls(),
                settings.lease(), settings.fenceCommand(), settings.arrayUuid(), known::complete);
        try {
            ArrayInfo info = awaitArray(known, settings, wait, stopped);
            if (info == null) {
                log.info("front: stopped before any controller said which array it serves");
                cluster.close();
                return null;
            }
            cluster.sized(info.size());
            VolumeExport export = new VolumeExport(info.name(), info.description(), info.size(),
                    settings.front().readOnly());
            io.parityd.metrics.Metrics metrics = settings.metrics() == null ? null : new io.parityd.metrics.Metrics();
            if (metrics != null) {
                cluster.onFailover(metrics.failovers());
            }
            NbdServer server = NbdServer.start(settings.listen(), export, cluster.controller(), settings.front(),
                    metrics == null ? io.parityd.front.RequestObserver.NONE : metrics.nbd());
            java.nio.file.Path socket = settings.adminSocket() != null ? settings.adminSocket()
                    : io.parityd.admin.AdminPaths.defaultFor(info.name() + "-front");
            io.parityd.admin.AdminServer admin;
            try {
                admin = io.parityd.admin.AdminServer.start(socket, new FrontControl(cluster, info, server.uri(), server.budget()));
            } catch (IOException | RuntimeException e) {
                server.stop();
                throw e;
            }
            log.info("admin socket for the front: {} (parityd status --admin-socket {})", socket, socket);
            if (metrics != null) {
                metrics.requestMemory(server.budget());
                try {
                    metrics.serve(settings.metrics(), new FrontControl(cluster, info, server.uri(), server.budget())::status, 0);
                } catch (IOException e) {
                    admin.close();
                    server.stop();
                    throw e;
                }
            }
            return new FrontService(cluster, server, admin, metrics);
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** The array a controller named, or null if a stop came first. */
    private static ArrayInfo awaitArray(CompletableFuture<ArrayInfo> known, FrontSettings settings, Duration wait,
                                        java.util.function.BooleanSupplier stopped)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        long nextWarning = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!stopped.getAsBoolean()) {
            try {
                return known.get(100, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                long now = System.nanoTime();
                if (now > deadline) {
                    throw new IOException("no controller answered within " + wait.toSeconds() + " s at "
                            + settings.controllers().values() + "; start them, or check the addresses and the"
                            + " shared secret");
                }
                if (now > nextWarning) {
                    nextWarning = now + TimeUnit.SECONDS.toNanos(10);
                    log.warn("front: waiting for a controller at {} to say which array it serves",
                            settings.controllers().values());
                }
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IOException(e.getCause().getMessage(), e.getCause());
            }
        }
        return null;
    }

    /** Where clients connect. */
    public String uri() {
        return server.uri();
    }

    public ListenAddress address() {
        return server.address();
    }

    /** Stops taking clients (their requests in flight finish or fail), then drops the links. */
    @Override
    public void close() throws Exception {
        try {
            if (metrics != null) {
                metrics.close();
            }
            admin.close();
            server.stop();
        } finally {
            cluster.close();
        }
    }
}
