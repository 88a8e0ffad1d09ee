package io.parityd.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The socket file and who may use it: modes, stale and live sockets, removal, peer credentials. */
class AdminSocketTest {

    @TempDir
    Path dir;

    private static String mode(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    @Test
    void shouldMakeTheSocket0600AndTheDirectoriesItCreates0700() throws Exception {
        Path socket = dir.resolve("run/parityd/vol0.sock");
        try (AdminServer server = AdminServer.start(socket, new RecordingArrayControl(dir))) {
            assertThat(server.socket()).isEqualTo(socket);
            assertThat(mode(socket)).isEqualTo("rw-------");
            assertThat(mode(dir.resolve("run/parityd"))).isEqualTo("rwx------");
            assertThat(mode(dir.resolve("run"))).isEqualTo("rwx------");
        }
    }

    @Test
    void shouldLeaveAnExistingDirectoryAsItIs() throws Exception {
        Path shared = Files.createDirectory(dir.resolve("shared"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        try (AdminServer server = AdminServer.start(shared.resolve("vol0.sock"), new RecordingArrayControl(dir))) {
            assertThat(mode(shared)).isEqualTo("rwxr-xr-x");
            assertThat(mode(server.socket())).isEqualTo("rw-------");
        }
    }

    @Test
    void shouldRefuseADirectoryOwnedBySomeoneElse() throws Exception {
        Path theirs = Files.createDirectory(dir.resolve("theirs"));
        Files.setAttribute(theirs, "unix:uid", 65534);
        assertThatThrownBy(() -> AdminServer.start(theirs.resolve("vol0.sock"), new RecordingArrayControl(dir)))
                .isInstanceOf(IOException.class)
                .hasMessage(theirs + " belongs to uid 65534, who could replace the admin socket in it; "
                        + "remove it or choose another --admin-socket path");
        assertThat(theirs.resolve("vol0.sock")).doesNotExist();
    }

    @Test
    void shouldRemoveTheSocketOnClose() throws Exception {
        Path socket = dir.resolve("vol0.sock");
        AdminServer server = AdminServer.start(socket, new RecordingArrayControl(dir));
        assertThat(socket).exists();
        server.close();
        assertThat(socket).doesNotExist();
        server.close(); // twice is harmless
        assertThatThrownBy(() -> new AdminClient(socket).status()).hasMessageContaining("does not exist");
    }

    @Test
    void shouldReplaceAStaleSocket() throws Exception {
        Path socket = dir.resolve("vol0.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        try (AdminServer server = AdminServer.start(socket, new RecordingArrayControl(dir))) {
            assertThat(new AdminClient(socket).status().name()).isEqualTo("vol0");
        }
    }

    @Test
    void shouldRefuseALiveSocketAndLeaveItServing() throws Exception {
        Path socket = dir.resolve("vol0.sock");
        try (AdminServer first = AdminServer.start(socket, new RecordingArrayControl(dir))) {
            assertThatThrownBy(() -> AdminServer.start(socket, new RecordingArrayControl(dir)))
                    .isInstanceOf(IOException.class)
                    .hasMessage("another server is listening on " + socket + "; stop it or choose another --admin-socket path");
            assertThat(new AdminClient(socket).status().name()).isEqualTo("vol0");
        }
    }

    @Test
    void shouldRefuseAPathTooLongForASocket() {
        Path socket = dir.resolve("d".repeat(100)).resolve("vol0.sock");
        assertThatThrownBy(() -> AdminServer.start(socket, new RecordingArrayControl(dir)))
                .hasMessageContaining("bytes a Unix socket path may have; choose a shorter --admin-socket path");
    }

    @Test
    void shouldRefuseACallerTheRuleDoesNotAllow() throws Exception {
        RecordingArrayControl control = new RecordingArrayControl(dir);
        Path socket = dir.resolve("vol0.sock");
        try (AdminServer server = AdminServer.start(socket, control, AdminAccess.onlyUids(4242))) {
            // Many times: the daemon answers and closes at once, often before the request is
            // written, and the client must still read and show the reason.
            for (int i = 0; i < 50; i++) {
                assertThatThrownBy(() -> new AdminClient(socket).fail("1", false)).isInstanceOf(AdminException.class)
                        .hasMessage("only uid [4242] may use " + socket + "; you are uid " + AdminAccess.currentUid()
                                + "; run the command as that user or with sudo");
            }
            try (RawConnection raw = new RawConnection(socket)) {
                assertThat(raw.readLine()).as("refused before any request").contains("\"ok\":false").contains("only uid [4242]");
                assertThat(raw.readLine()).as("and closed").isNull();
            }
        }
        assertThat(control.calls()).as("a refused caller reaches nothing").isEmpty();
    }

    @Test
    void shouldLetRootAndTheDaemonsUserIn() throws Exception {
        AdminAccess access = AdminAccess.rootAndDaemonUser();
        assertThat(access.allows(0)).isTrue();
        assertThat(access.allows(AdminAccess.currentUid())).isTrue();
        assertThat(access.allows(65534)).isEqualTo(AdminAccess.currentUid() == 65534);
        try (AdminServer server = AdminServer.start(dir.resolve("vol0.sock"), new RecordingArrayControl(dir))) {
            assertThat(new AdminClient(server.socket()).status().name()).isEqualTo("vol0");
        }
    }

    @Test
    void shouldNameTheRuleForTheDaemonsUser() {
        int self = AdminAccess.currentUid();
        String refusal = AdminAccess.rootAndDaemonUser().refusal(1234, Path.of("/run/parityd/vol0.sock"));
        assertThat(refusal).startsWith("only root or the user running parityd (" + (self == 0 ? "root" : "uid " + self)
                + ") may use /run/parityd/vol0.sock; you are uid 1234");
    }
}
