package io.parityd.member;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import io.parityd.block.IoFailures;

/**
 * Real block devices for tests: loop devices over files, attached with {@code losetup} and always
 * detached again, whether the test passed or failed.
 *
 * <pre>{@code
 * @RegisterExtension
 * final LoopDevices loops = new LoopDevices();   // detaches after each test
 *
 * @Test
 * void shouldX(@TempDir Path dir) throws IOException {
 *     Path device = loops.attach(LoopDevices.backingFile(dir.resolve("a.img"), 8 << 20)); // 512-byte sectors
 *     Path fourK = loops.attach(LoopDevices.backingFile(dir.resolve("b.img"), 8 << 20), 4096);
 *     try (BlockDevice member = Members.open(device, false)) { ... }
 * }
 * }</pre>
 *
 * <p>A {@code static} field detaches after all tests of the class instead; outside JUnit, use it
 * with try-with-resources ({@link #close()} detaches everything still attached).
 *
 * <p>Loop devices need root, {@code losetup} and {@code /dev/loop-control}. Where one is
 * missing, {@link #attach} aborts the test with an assumption naming it, so the report shows a
 * skip, never a pass. Once those exist, a failure to attach fails the test.
 *
 * <p>A device is detached with {@code losetup -d}; if something still holds it open the kernel
 * detaches it when the last holder closes, so a test that leaked a descriptor leaks no device
 * past its JVM.
 */
public final class LoopDevices implements AfterEachCallback, AfterAllCallback, AutoCloseable {

    private static final long TIMEOUT_SECONDS = 60;

    private final List<Path> attached = new ArrayList<>();

    /** Aborts the calling test as skipped, with the reason, unless loop devices can be made here. */
    public static void assumeAvailable() {
        assumeTrue(isRoot(), "loop devices need root; this test runs as uid " + uid());
        assumeTrue(Files.exists(Path.of("/dev/loop-control")), "loop devices need /dev/loop-control (module loop)");
        assumeTrue(losetup() != null, "loop devices need losetup (Debian package mount) on PATH or in /usr/sbin");
    }

    /** Creates {@code file} as a sparse file of {@code size} bytes (it reads as zeroes) and returns it. */
    public static Path backingFile(Path file, long size) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
        }
        return file;
    }

    /** Attaches {@code backingFile} as a new loop device with 512-byte sectors; returns its path. */
    public Path attach(Path backingFile) throws IOException {
        return attach(backingFile, 512);
    }

    /**
     * Attaches {@code backingFile} as a new loop device with {@code sectorSize}-byte logical
     * sectors (512, 1024, 2048 or 4096; the file should be a multiple of it) and returns the
     * device's path. The device is detached after the test.
     */
    public Path attach(Path backingFile, int sectorSize) throws IOException {
        assumeAvailable();
        String device = run(losetup(), "--find", "--show", "--sector-size", Integer.toString(sectorSize),
                backingFile.toString());
        Path path = Path.of(device);
        synchronized (attached) {
            attached.add(path);
        }
        return path;
    }

    /** Detaches a device this instance attached, before the test ends. */
    public void detach(Path device) throws IOException {
        synchronized (attached) {
            if (!attached.remove(device)) {
                throw new IllegalArgumentException(device + " was not attached by this LoopDevices");
            }
        }
        run(losetup(), "--detach", device.toString());
    }

    /** Detaches every device still attached, newest first; throws the first failure, keeping the rest. */
    @Override
    public void close() throws IOException {
        List<Path> devices;
        synchronized (attached) {
            devices = new ArrayList<>(attached);
            attached.clear();
        }
        IoFailures failures = new IoFailures();
        for (int i = devices.size() - 1; i >= 0; i--) {
            try {
                run(losetup(), "--detach", devices.get(i).toString());
            } catch (IOException e) {
                failures.add(e);
            }
        }
        failures.throwIfAny();
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        close();
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        close();
    }

    /** Runs a command and returns its trimmed standard output; fails naming the command and its stderr. */
    private static String run(String... command) throws IOException {
        Process process = new ProcessBuilder(command).start();
        try {
            // Outputs are a line or two, far below a pipe's buffer, so reading after exit cannot block.
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in " + TIMEOUT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", command) + " interrupted", e);
        }
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): " + err);
        }
        return out;
    }

    private static String losetup() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.add("/usr/sbin");
        dirs.add("/sbin");
        for (String dir : dirs) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "losetup"))) {
                return Path.of(dir, "losetup").toString();
            }
        }
        return null;
    }

    private static boolean isRoot() {
        return uid() == 0;
    }

    /** The effective uid: /proc/self belongs to it. */
    private static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | RuntimeException unknown) {
            return -1;
        }
    }
}
