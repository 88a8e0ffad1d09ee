package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * 256 MiB of random data copied into the volume with nbdcopy and back out is byte-identical,
 * and the stripes it wrote all carry correct parity afterwards.
 */
class NbdcopyIT extends DaemonTestBase {

    private static final long SIZE = 256L << 20;

    @Test
    void shouldCopyRandomDataInAndOutIdentically() throws Exception {
        Tools.require("nbdcopy", "libnbd-bin");
        Path in = dir.resolve("in.bin");
        String inDigest = writeRandom(in, SIZE, 20251125L);
        List<Path> members = Arrays.members(dir, 5);
        Arrays.create("copy", "80M", members);
        daemon = Arrays.serve(dir.resolve("parityd.log"), members);

        Parityd.check(List.of("nbdcopy", "--flush", in.toString(), daemon.uri()), Duration.ofMinutes(3));
        Path out = dir.resolve("out.bin");
        Parityd.check(List.of("nbdcopy", daemon.uri(), out.toString()), Duration.ofMinutes(3));

        assertThat(Files.size(out)).isEqualTo(4L * (79 << 20));
        assertThat(digest(out, SIZE)).as("first 256 MiB read back").isEqualTo(inDigest);
        assertThat(daemon.terminate(Duration.ofSeconds(60))).as("exit status after SIGTERM").isZero();
        Arrays.assertParityClean(members);
    }

    static String writeRandom(Path file, long size, long seed) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Random random = new Random(seed);
        byte[] block = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long done = 0; done < size; done += block.length) {
                random.nextBytes(block);
                md.update(block);
                out.write(block);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String digest(Path file, long length) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] block = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            long left = length;
            while (left > 0) {
                int n = in.read(block, 0, (int) Math.min(block.length, left));
                if (n < 0) {
                    break;
                }
                md.update(block, 0, n);
                left -= n;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
