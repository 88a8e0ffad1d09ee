package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every command and flag parityd advertises, driven by libnbd's own client (nbdsh): FUA writes,
 * FLUSH, TRIM, WRITE_ZEROES with NO_HOLE and FAST_ZERO, structured reads, and CAN_MULTI_CONN
 * (a write flushed on one connection is seen on another). libnbd checks the server's replies
 * against the spec itself, so a malformed reply fails here.
 */
class NbdshFeaturesIT extends DaemonTestBase {

    @Test
    void shouldHonourEveryAdvertisedCommandAndFlag() throws Exception {
        Tools.require("nbdsh", "python3-libnbd");
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create("feat", "65M", members, "--chunk", "64K");
        daemon = Arrays.serve(dir.resolve("parityd.log"), members);

        String script = String.join("\n",
                "import os",
                "h.set_export_name('feat')",
                "h.connect_uri('" + daemon.uri() + "')",
                "assert h.get_structured_replies_negotiated()",
                "size = h.get_size()",
                "assert size == 128 * 1024 * 1024, size",
                "assert h.can_fua() and h.can_flush() and h.can_trim() and h.can_zero() and h.can_fast_zero()",
                "assert h.can_multi_conn() and not h.is_read_only()",
                "assert h.get_block_size(nbd.SIZE_MINIMUM) == 512",
                // A full-stripe write (2 data chunks of 64 KiB) and a partial one, with FUA.
                "a = os.urandom(128 * 1024)",
                "h.pwrite(a, 0, nbd.CMD_FLAG_FUA)",
                "b = os.urandom(4096)",
                "h.pwrite(b, 70000 // 512 * 512, nbd.CMD_FLAG_FUA)",
                "h.flush()",
                "expect = bytearray(a)",
                "off = 70000 // 512 * 512",
                "expect[off:off + 4096] = b",
                "assert h.pread(len(expect), 0) == bytes(expect)",
                // Second connection: multi-conn means it sees the flushed writes.
                "h2 = nbd.NBD()",
                "h2.set_export_name('feat')",
                "h2.connect_uri('" + daemon.uri() + "')",
                "assert h2.pread(len(expect), 0) == bytes(expect)",
                // WRITE_ZEROES: unaligned to stripes (partial head and tail), then with NO_HOLE and FAST_ZERO.
                "h.pwrite(os.urandom(1024 * 1024), 1024 * 1024)",
                "h.zero(300 * 1024, 1024 * 1024 + 4096)",
                "assert h.pread(300 * 1024, 1024 * 1024 + 4096) == bytes(300 * 1024)",
                "h.pwrite(os.urandom(512 * 1024), 4 * 1024 * 1024)",
                "h.zero(256 * 1024, 4 * 1024 * 1024, nbd.CMD_FLAG_NO_HOLE)",
                "assert h.pread(256 * 1024, 4 * 1024 * 1024) == bytes(256 * 1024)",
                "h.zero(1024 * 1024, 8 * 1024 * 1024, nbd.CMD_FLAG_FAST_ZERO | nbd.CMD_FLAG_FUA)",
                "assert h.pread(1024 * 1024, 8 * 1024 * 1024) == bytes(1024 * 1024)",
                // TRIM of whole stripes reads back as zeroes; a partial TRIM leaves the data or zeroes.
                "c = os.urandom(1024 * 1024)",
                "h.pwrite(c, 16 * 1024 * 1024)",
                "h.trim(512 * 1024, 16 * 1024 * 1024)",
                "assert h.pread(512 * 1024, 16 * 1024 * 1024) == bytes(512 * 1024)",
                "h.trim(4096, 16 * 1024 * 1024 + 600 * 1024)",
                "got = h.pread(4096, 16 * 1024 * 1024 + 600 * 1024)",
                "assert got in (c[600 * 1024:600 * 1024 + 4096], bytes(4096)), 'partial trim changed data'",
                // Out of range requests are refused by the server (libnbd's own checks are off) and the connection lives on.
                "h.set_strict_mode(0)",
                "try:",
                "    h.pread(4096, size)",
                "    raise SystemExit('read past the end succeeded')",
                "except nbd.Error as e:",
                "    assert e.errnum == errno.EINVAL, e",
                "h.flush()",
                "h.shutdown()",
                "h2.shutdown()",
                "print('features ok')");
        // nbdsh runs "python3 -m nbd"; Debian's python3-libnbd is for Debian's python3, so put it first on PATH.
        String path = "PATH=/usr/bin:/bin:" + System.getenv().getOrDefault("PATH", "");
        String out = Parityd.check(List.of("env", path, "nbdsh", "-c", "import errno\n" + script), Duration.ofMinutes(2));
        assertThat(out).contains("features ok");

        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        Arrays.assertParityClean(members);
    }
}
