package io.parityd.it;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * For tests that run one daemon over members in a scratch directory: whatever happens, the
 * daemon they started is gone afterwards (killed by its PID, never by name). Subclasses' own
 * {@code @AfterEach} methods run first, so they can unmount before the daemon goes.
 */
abstract class DaemonTestBase {

    @TempDir
    Path dir;

    DaemonProcess daemon;

    @AfterEach
    void stopDaemon() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
    }
}
