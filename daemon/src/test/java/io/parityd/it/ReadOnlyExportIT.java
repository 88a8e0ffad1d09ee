package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code serve --read-only} (issue 17, item 3) and CACHE hints (item 5): libnbd sees a read-only
 * disk that can cache; a client that writes, trims or zeroes anyway gets EPERM, and neither
 * that nor reads, CACHE hints and a FLUSH change one byte of any member file, superblocks
 * included: a clean array exported read-only is not even marked dirty.
 */
class ReadOnlyExportIT extends DaemonTestBase {

    @Test
    void shouldRefuseEveryWriteLikeCommandWithEpermAndLeaveEveryMemberByteAsItWas() throws Exception {
        Tools.require("nbdinfo", "libnbd-bin");
        Tools.require("nbdsh", "python3-libnbd");
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create("ro", "33M", members);
        byte[] data = new byte[64 << 10];
        new Random(17).nextBytes(data);
        daemon = Arrays.serve(dir.resolve("write.log"), members);
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), "ro", false)) {
            c.write(1 << 20, data);
        }
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        List<String> before = digests(members);

        daemon = Arrays.serve(dir.resolve("ro.log"), members, "--read-only");
        assertThat(daemon.log()).contains("; read-only").contains("is exported read-only: it stays marked clean");
        String json = Parityd.check(List.of("nbdinfo", "--json", daemon.uri()), Duration.ofSeconds(30));
        assertThat(json).containsPattern("\"is_read_only\": true").containsPattern("\"can_cache\": true");

        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), "ro", false)) {
            c.request(0, RawNbdClient.CMD_WRITE, 1, 1 << 20, 4096, new byte[4096]);
            assertThat(c.reply(0).error()).as("WRITE").isEqualTo(RawNbdClient.EPERM);
            c.request(RawNbdClient.FLAG_FUA, RawNbdClient.CMD_WRITE, 2, 0, 512, new byte[512]);
            assertThat(c.reply(0).error()).as("WRITE with FUA").isEqualTo(RawNbdClient.EPERM);
            c.request(0, RawNbdClient.CMD_TRIM, 3, 0, 1 << 20, null);
            assertThat(c.reply(0).error()).as("TRIM").isEqualTo(RawNbdClient.EPERM);
            c.request(0, RawNbdClient.CMD_WRITE_ZEROES, 4, 1 << 20, 64 << 10, null);
            assertThat(c.reply(0).error()).as("WRITE_ZEROES").isEqualTo(RawNbdClient.EPERM);
            c.request(0, RawNbdClient.CMD_CACHE, 5, 1 << 20, 64 << 10, null);
            assertThat(c.reply(0).error()).as("CACHE").isZero();
            c.request(0, RawNbdClient.CMD_FLUSH, 6, 0, 0, null);
            assertThat(c.reply(0).error()).as("FLUSH").isZero();
            assertThat(c.read(1 << 20, data.length)).as("the data written before").isEqualTo(data);
        }
        // libnbd's own view: a read-only disk that caches; with its own checks off, the server's EPERM.
        String script = String.join("\n",
                "import errno",
                "h.connect_uri('" + daemon.uri() + "')",
                "assert h.is_read_only() and h.can_cache()",
                "h.cache(65536, 1048576)",
                "h.set_strict_mode(0)",
                "for name, call in (('pwrite', lambda: h.pwrite(bytes(4096), 0)), ('trim', lambda: h.trim(4096, 0)),",
                "                   ('zero', lambda: h.zero(4096, 0))):",
                "    try:",
                "        call()",
                "        raise SystemExit(name + ' on a read-only export succeeded')",
                "    except nbd.Error as e:",
                "        assert e.errnum == errno.EPERM, (name, e)",
                "h.shutdown()",
                "print('read-only ok')");
        // nbdsh runs "python3 -m nbd"; Debian's python3-libnbd is for Debian's python3, so put it first on PATH.
        String path = "PATH=/usr/bin:/bin:" + System.getenv().getOrDefault("PATH", "");
        assertThat(Parityd.check(List.of("env", path, "nbdsh", "-c", script), Duration.ofMinutes(1))).contains("read-only ok");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        assertThat(daemon.log()).contains("array 'ro' stopped");
        assertThat(digests(members)).as("every member file, byte for byte").isEqualTo(before);
    }

    private static List<String> digests(List<Path> members) throws Exception {
        List<String> sums = new ArrayList<>();
        for (Path m : members) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            try (var in = Files.newInputStream(m)) {
                byte[] buf = new byte[1 << 20];
                for (int n; (n = in.read(buf)) > 0; ) {
                    sha.update(buf, 0, n);
                }
            }
            sums.add(m.getFileName() + " " + HexFormat.of().formatHex(sha.digest()));
        }
        return sums;
    }
}
