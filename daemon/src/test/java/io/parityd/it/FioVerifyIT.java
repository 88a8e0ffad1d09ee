package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * fio's NBD engine writing with crc32c verification headers at queue depth 32, then reading
 * everything back and checking it; mixed block sizes make the engine take full-stripe,
 * read-modify-write and reconstruct-write paths. Afterwards every stripe's parity is right.
 */
class FioVerifyIT extends DaemonTestBase {

    @Test
    void shouldPassRandomReadWriteWithCrc32cVerification() throws Exception {
        Tools.require("fio", "fio");
        List<Path> members = Arrays.members(dir, 5);
        Arrays.create("fio", "65M", members, "--chunk", "64K");
        daemon = Arrays.serve(dir.resolve("parityd.log"), members);

        String output = Parityd.check(fio(daemon.uri(), "randrw", "4k", "32"), Duration.ofMinutes(5));
        assertThat(output).contains("\"error\" : 0");
        String mixed = Parityd.check(fio(daemon.uri(), "randwrite", "4k/40:64k/30:256k/20:1m/10", "16"), Duration.ofMinutes(5));
        assertThat(mixed).contains("\"error\" : 0");

        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        Arrays.assertParityClean(members);
    }

    /**
     * A data journal of 1 MiB under writes of up to 1 MiB at queue depth 16: the journal is full
     * most of the time, so the front keeps pausing reads (backpressure). No client sees an error,
     * and everything verifies. (A commands journal of that size holds 4,096 records of a few dozen
     * bytes and does not fill under 16 writes in flight: its full case is JournaledControllerTest's.)
     */
    @Test
    void shouldSlowClientsDownNotFailThemWhenTheJournalIsFull() throws Exception {
        Tools.require("fio", "fio");
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("full", "33M", members, "--chunk", "16K");
        daemon = Arrays.serve(dir.resolve("parityd.log"), members, "--journal", "data", "--nvram-size", "1M");

        String mixed = Parityd.check(fio(daemon.uri(), "randwrite", "4k/40:64k/30:256k/20:1m/10", "16"), Duration.ofMinutes(5));
        assertThat(mixed).contains("\"error\" : 0");
        assertThat(daemon.log()).as("backpressure engaged").contains("pausing reads from").contains("is full")
                .contains("resuming reads");

        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        Arrays.assertParityClean(members);
    }

    private static List<String> fio(String uri, String rw, String blockSizes, String iodepth) {
        List<String> cmd = new ArrayList<>(List.of("fio", "--name=verify", "--ioengine=nbd", "--uri=" + uri,
                "--rw=" + rw, "--iodepth=" + iodepth, "--size=100%", "--io_size=192m",
                "--verify=crc32c", "--verify_fatal=1", "--do_verify=1", "--randrepeat=0", "--verify_state_save=0",
                "--output-format=json"));
        cmd.add(blockSizes.contains("/") ? "--bssplit=" + blockSizes : "--bs=" + blockSizes);
        return cmd;
    }
}
