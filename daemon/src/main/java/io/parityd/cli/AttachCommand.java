package io.parityd.cli;

import io.parityd.attach.KernelAttachment;
import io.parityd.front.ListenAddress;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code parityd attach}: the kernel's NBD client, configured so that it survives a server restart. */
@Command(name = "attach",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Attach an export as /dev/nbdN; reconnect when it breaks.",
        description = {
            "Attach an export to a kernel NBD device, as nbd-client does, and stay running to keep it attached:"
                    + " when a connection breaks (parityd serve or an HA front restarting), requests on the device"
                    + " wait, up to --dead-connection-timeout, instead of failing with EIO, while this command"
                    + " connects again. nbd-client cannot do that: it leaves a broken connection broken, and the"
                    + " filesystem on the device sees I/O errors.",
            "SIGTERM or SIGINT detaches the device (unmount its filesystem first) and exits 0. Needs root"
                    + " and the nbd module (modprobe nbd)."},
        footer = {"", "Example:",
            "  modprobe nbd",
            "  parityd attach --name vol0 --connections 4 127.0.0.1:10809 &",
            "  parityd attach nbd://127.0.0.1/vol0 &      (a URI: port 10809 by default)",
            "  mount /dev/nbd0 /mnt"})
final class AttachCommand implements Callable<Integer> {

    private static final Pattern DEVICE = Pattern.compile("/dev/nbd(\\d+)");

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "HOST:PORT|URI", defaultValue = "127.0.0.1:10809",
            description = "The server (parityd serve, or the front of an HA pair), as HOST:PORT or as the NBD URI"
                    + " that libnbd tools and parityd's own log use, nbd://HOST[:PORT][/EXPORT] (default:"
                    + " ${DEFAULT-VALUE})")
    private String server;

    @Option(names = {"-N", "--name"}, paramLabel = "EXPORT", defaultValue = "",
            description = "Export name: the volume's name (default: the server's default export)")
    private String name;

    @Option(names = "--device", paramLabel = "/dev/nbdN", defaultValue = "/dev/nbd0",
            description = "The kernel NBD device to attach (default: ${DEFAULT-VALUE})")
    private String device;

    @Option(names = {"-C", "--connections"}, paramLabel = "N", defaultValue = "1",
            description = "TCP connections for the device; the kernel spreads requests over them (default: ${DEFAULT-VALUE})")
    private int connections;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s",
            description = "A request unanswered this long counts its connection as broken; the kernel resends it on"
                    + " the next connection (default: ${DEFAULT-VALUE})")
    private String timeout;

    @Option(names = "--dead-connection-timeout", paramLabel = "DURATION", defaultValue = "2m",
            description = "How long requests wait for a broken connection to be replaced before failing with EIO"
                    + " (default: ${DEFAULT-VALUE})")
    private String deadConnectionTimeout;

    @Option(names = "--block-size", paramLabel = "BYTES", defaultValue = "512",
            description = "The device's logical block size: 512, 1024, 2048 or 4096 (default: ${DEFAULT-VALUE})")
    private int blockSize;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Matcher m = DEVICE.matcher(device);
        if (!m.matches()) {
            err.println("parityd attach: --device " + device + " is not a kernel NBD device such as /dev/nbd0");
            return Main.FAILED;
        }
        int index = Integer.parseInt(m.group(1));
        if (connections < 1 || connections > 64) {
            err.println("parityd attach: --connections must be 1 to 64, not " + connections);
            return Main.FAILED;
        }
        if (blockSize != 512 && blockSize != 1024 && blockSize != 2048 && blockSize != 4096) {
            err.println("parityd attach: --block-size must be 512, 1024, 2048 or 4096, not " + blockSize);
            return Main.FAILED;
        }
        KernelAttachment.Settings settings;
        try {
            java.net.InetSocketAddress address;
            if (io.parityd.attach.NbdUri.looksLikeUri(server)) {
                io.parityd.attach.NbdUri uri = io.parityd.attach.NbdUri.parse(server);
                if (!name.isEmpty() && !uri.exportName().isEmpty() && !name.equals(uri.exportName())) {
                    throw new IllegalArgumentException("--name '" + name + "' and the URI's export '" + uri.exportName()
                            + "' differ: give the export once");
                }
                name = name.isEmpty() ? uri.exportName() : name;
                address = uri.server();
            } else {
                address = ListenAddress.parseTcp(server).socketAddress();
            }
            settings = new KernelAttachment.Settings(address, name, index, connections, blockSize,
                    FrontCommand.parseDuration(timeout, "--timeout"),
                    FrontCommand.parseDuration(deadConnectionTimeout, "--dead-connection-timeout"));
        } catch (IllegalArgumentException e) {
            err.println("parityd attach: " + e.getMessage());
            return Main.FAILED;
        }
        if (!Files.exists(Path.of("/sys/block/nbd" + index))) {
            err.println("parityd attach: there is no " + device + ": load the kernel's NBD driver (modprobe nbd;"
                    + " nbds_max=N for more devices)");
            return Main.FAILED;
        }
        Shutdown shutdown = Shutdown.onSignals("detaching " + device + ", then exiting");
        KernelAttachment attachment;
        try {
            attachment = KernelAttachment.attach(settings);
        } catch (IOException e) {
            err.println("parityd attach: cannot attach " + device + " to export '" + name + "' at " + server + ": "
                    + e.getMessage());
            return Main.FAILED;
        }
        try (attachment) {
            out.printf("attached %s: export '%s' at %s, %d bytes, %d connection%s; reconnects when a connection"
                    + " breaks%n", device, name, server, attachment.size(), connections, connections == 1 ? "" : "s");
            out.flush();
            while (!shutdown.await(0)) {
                attachment.watch(() -> {
                    try {
                        return shutdown.await(0);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return true;
                    }
                });
            }
            attachment.detach();
            out.printf("detached %s%n", device);
            out.flush();
        }
        return 0;
    }
}
