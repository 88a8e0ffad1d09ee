package io.parityd.attach;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One export attached as {@code /dev/nbdN} through the kernel's NBD driver, kept attached: the
 * driver is configured over netlink with a dead-connection timeout, so when a connection breaks
 * (the server, or an HA front, restarting) requests wait instead of failing, and this class
 * connects again and hands the driver the new sockets. Requests that were on the broken
 * connection are resent by the driver once their request timeout passes.
 *
 * <p>The handshake is done here, then each socket belongs to the kernel: our descriptors are
 * closed right after the driver took its own references.
 */
public final class KernelAttachment implements Closeable {

    private static final Logger log = LoggerFactory.getLogger(KernelAttachment.class);

    /** What to attach, and how patiently. */
    public record Settings(InetSocketAddress server, String exportName, int index, int connections, long blockSize,
            Duration requestTimeout, Duration deadConnectionTimeout) {
    }

    private final Settings settings;
    private final NbdNetlink netlink;
    private final long size;
    private int reconnects;

    private KernelAttachment(Settings settings, NbdNetlink netlink, long size) {
        this.settings = settings;
        this.netlink = netlink;
        this.size = size;
    }

    /** Connects, negotiates and configures the device; on failure nothing stays configured. */
    public static KernelAttachment attach(Settings s) throws IOException {
        NbdNetlink netlink = NbdNetlink.open();
        List<Integer> fds = new ArrayList<>();
        try {
            ClientHandshake.Export export = null;
            for (int i = 0; i < s.connections(); i++) {
                int fd = Sockets.connectTcp(s.server());
                fds.add(fd);
                ClientHandshake.Export e = ClientHandshake.go(fd, s.exportName());
                if (export != null && !export.equals(e)) {
                    throw new IOException("the server described export '" + s.exportName() + "' differently on two connections");
                }
                export = e;
            }
            try {
                netlink.connect(s.index(), fds, export.size(), export.transmissionFlags(), s.blockSize(),
                        Math.max(1, s.requestTimeout().toSeconds()), Math.max(1, s.deadConnectionTimeout().toSeconds()));
            } catch (IOException e) {
                if (e.getMessage().contains("errno 16)")) {
                    throw new IOException("/dev/nbd" + s.index() + " is in use (attached already?): detach it with "
                            + "'nbd-client -d /dev/nbd" + s.index() + "', or pick another --device", e);
                }
                throw e;
            }
            return new KernelAttachment(s, netlink, export.size());
        } catch (IOException | RuntimeException e) {
            netlink.close();
            throw e;
        } finally {
            fds.forEach(Sockets::close);
        }
    }

    public long size() {
        return size;
    }

    public int reconnects() {
        return reconnects;
    }

    /**
     * Waits up to half a second for the driver to report a dead connection of this device; if
     * one did, connects again until the server answers or {@code stop} says to give up.
     *
     * @return false if {@code stop} ended a reconnection that had not succeeded
     */
    public boolean watch(java.util.function.BooleanSupplier stop) throws IOException, InterruptedException {
        OptionalInt dead = netlink.nextDeadLink();
        if (dead.isEmpty() || dead.getAsInt() != settings.index()) {
            return true;
        }
        // Each dead socket is reported on its own; let the reports of one event arrive, then
        // replace every dead socket at once (the driver drops sockets it has no place for).
        while (netlink.nextDeadLink().isPresent()) {
            // drained
        }
        log.warn("/dev/nbd{}: a connection to {} broke; requests wait (up to {} s) while it reconnects",
                settings.index(), settings.server(), settings.deadConnectionTimeout().toSeconds());
        long delay = 200;
        long started = System.nanoTime();
        int attempts = 0;
        while (!stop.getAsBoolean()) {
            attempts++;
            List<Integer> fds = new ArrayList<>();
            try {
                for (int i = 0; i < settings.connections(); i++) {
                    int fd = Sockets.connectTcp(settings.server());
                    fds.add(fd);
                    ClientHandshake.Export e = ClientHandshake.go(fd, settings.exportName());
                    if (e.size() != size) {
                        throw new IOException("export '" + settings.exportName() + "' changed size from " + size + " to "
                                + e.size() + " bytes; not reconnecting to it");
                    }
                }
                netlink.reconnect(settings.index(), fds);
                reconnects++;
                log.info("/dev/nbd{}: reconnected to {} ({} connection{}) after {} s", settings.index(), settings.server(),
                        settings.connections(), settings.connections() == 1 ? "" : "s",
                        (System.nanoTime() - started) / 1_000_000_000);
                return true;
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().contains("changed size")) {
                    throw e;
                }
                // The first failure, then one line every 15 attempts (about 30 s): a restart
                // under way is expected, not news every two seconds.
                if (attempts % 15 == 1) {
                    log.info("/dev/nbd{}: cannot reconnect yet ({} s): {}", settings.index(),
                            (System.nanoTime() - started) / 1_000_000_000, e.getMessage());
                }
            } finally {
                fds.forEach(Sockets::close);
            }
            Thread.sleep(delay);
            delay = Math.min(delay * 2, 2000);
        }
        return false;
    }

    /** Detaches the device (NBD_CMD_DISCONNECT); the filesystem on it should be unmounted first. */
    public void detach() throws IOException {
        netlink.disconnect(settings.index());
    }

    @Override
    public void close() {
        netlink.close();
    }
}
