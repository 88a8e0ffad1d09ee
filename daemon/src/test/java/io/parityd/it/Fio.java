package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * fio's NBD engine with crc32c verification, from a fixed seed, kept beyond the first
 * {@link KnownData#REGION} bytes. A later {@link #verifyOnly} run with the same arguments re-reads
 * the blocks an earlier {@link #writeAndVerify} wrote and checks each one's CRC and offset header:
 * that catches zeroes, garbage, torn and misplaced blocks across a rebuild or a restart, though
 * not an older fio block at the same offset (fio 3.33 does not check the seed); KnownData does.
 */
final class Fio {

    private Fio() {
    }

    static List<String> command(String uri, String ioSize, int iodepth, long seed, boolean verifyOnly) {
        List<String> cmd = new ArrayList<>(List.of("fio", "--name=verify", "--ioengine=nbd", "--uri=" + uri,
                "--rw=randwrite", "--bssplit=4k/50:64k/30:256k/20", "--iodepth=" + iodepth, "--size=100%",
                "--offset=" + KnownData.REGION,
                "--io_size=" + ioSize, "--verify=crc32c", "--verify_fatal=1", "--do_verify=1",
                "--randrepeat=1", "--randseed=" + seed, "--verify_state_save=0", "--output-format=json"));
        if (verifyOnly) {
            cmd.add("--verify_only");
        }
        return cmd;
    }

    /** Writes {@code ioSize} in random blocks and reads every one back, checking it. */
    static void writeAndVerify(String uri, String ioSize, int iodepth, long seed) throws Exception {
        run(command(uri, ioSize, iodepth, seed, false));
    }

    /** Re-reads and checks what {@link #writeAndVerify} with the same arguments wrote. */
    static void verifyOnly(String uri, String ioSize, int iodepth, long seed) throws Exception {
        run(command(uri, ioSize, iodepth, seed, true));
    }

    static Process start(String uri, String ioSize, int iodepth, long seed) throws Exception {
        return new ProcessBuilder(command(uri, ioSize, iodepth, seed, false)).redirectErrorStream(true).start();
    }

    private static void run(List<String> cmd) throws Exception {
        Tools.require("fio", "fio");
        Parityd.Result r = Parityd.exec(cmd, Duration.ofMinutes(5));
        assertThat(r.exitCode()).as("fio: %s", r.all()).isZero();
        assertThat(r.stdout()).contains("\"error\" : 0");
    }
}
