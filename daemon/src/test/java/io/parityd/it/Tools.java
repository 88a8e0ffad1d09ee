package io.parityd.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Real peers the end-to-end tests need. A missing one skips the test with a message that names
 * the package to install — never a silent pass. {@code .ci/run} installs them all.
 */
final class Tools {

    private Tools() {
    }

    static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        for (String dir : new String[] {"/usr/sbin", "/sbin"}) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    static void require(String program, String debianPackage) {
        assumeTrue(onPath(program), program + " is not installed (apt-get install " + debianPackage + "); skipping");
    }

    /** Loop mounts and FUSE need root and the devices; say which is missing. */
    static void requireMountCapability() {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounting needs root; skipping");
        assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing (no FUSE in this kernel/container); skipping");
        assumeTrue(Files.exists(Path.of("/dev/loop-control")), "/dev/loop-control is missing (no loop devices); skipping");
    }
}
