package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * HA mode under the kernel's NBD client, in a QEMU guest running Debian's kernel: two
 * controllers and a front, ext4 on {@code /dev/nbd0}, and fio writing and verifying a file on it
 * ({@code src/test/guest/ha.sh}). First the primary controller is killed with SIGKILL under
 * {@code nbd-client}: the front holds the connection, fences the dead primary, promotes the
 * standby and resends what was unanswered. Then the front itself is killed and started again
 * under {@code parityd attach} with four connections: the driver's requests wait for the new
 * connections. Neither time
 * may the kernel see an I/O error.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuestHaIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** What ha.sh's fio writes before the primary's kill, and after the front's. */
    private static final long FILE_BYTES = 24L << 20;
    private static final long SECOND_FILE_BYTES = 16L << 20;

    private GuestRig.Run run;

    @BeforeAll
    void runScenario() throws Exception {
        run = GuestRig.run("ha.sh", "ha", 3072, Duration.ofMinutes(15));
        System.out.println(run.console());
        GuestRig.assertRan(run);
    }

    @Test
    void shouldLogNoBufferLeakOrMisuse() {
        for (String log : new String[] {"controller-a.log", "controller-b.log", "front.log"}) {
            assertThat(run.logText(log)).as("%s (paranoid leak detection)", log)
                    .doesNotContain("LEAK:").doesNotContain("IllegalReferenceCountException")
                    .doesNotContain("ConcurrentModificationException");
        }
    }

    @Test
    void shouldKillThePrimaryWhileFioRuns() {
        assertThat(run.fact("fio_running_at_kill")).isEqualTo("yes");
        assertThat(run.fact("primary_after")).as("primary after the kill").isNotEqualTo(run.fact("primary_before"));
        assertThat(Double.parseDouble(run.fact("writes_after")))
                .as("writes answered by the end, against at the kill")
                .isGreaterThan(Double.parseDouble(run.fact("writes_before_kill")));
        Matcher promoted = Pattern.compile("controller " + run.fact("primary_after") + " is PRIMARY at epoch \\d+ \\((\\d+) ms")
                .matcher(run.logText("front.log"));
        String last = null;
        while (promoted.find()) {
            last = promoted.group(1);
        }
        assertThat(last).as("the front's promotion line for the new primary").isNotNull();
        System.out.println("promotion after the kill took " + last + " ms (under emulation)");
        assertThat(GuestRig.series(run.result("front.prom"), "parityd_ha_failovers_total")).isEqualTo(1);
    }

    @Test
    void shouldShowTheFilesystemNoIoError() throws Exception {
        JsonNode job = JSON.readTree(run.result("fio-ha.json")).path("jobs").path(0);
        assertThat(run.fact("fio_exit")).as("fio's exit status; %s", run.logText("fio.log")).isEqualTo("0");
        assertThat(job.path("error").asInt()).as("fio's error").isZero();
        assertThat(job.path("write").path("io_bytes").asLong()).as("bytes fio wrote").isEqualTo(FILE_BYTES);
        assertThat(job.path("read").path("io_bytes").asLong()).as("bytes fio read back and verified").isEqualTo(FILE_BYTES);
        assertThat(run.fact("kernel_io_errors")).as("I/O errors in the guest's kernel log:\n%s", run.logText("dmesg.log"))
                .isEqualTo("0");
        assertThat(GuestRig.sum(run.result("front.prom"), "parityd_nbd_request_errors_total"))
                .as("requests the front answered with an error").isZero();
    }

    @Test
    void shouldCarryTheWorkloadThroughAFrontRestartWhenAttachedWithParitydAttach() throws Exception {
        assertThat(run.fact("fio_running_at_front_kill")).isEqualTo("yes");
        JsonNode job = JSON.readTree(run.result("fio-front.json")).path("jobs").path(0);
        assertThat(run.fact("fio_front_exit")).as("fio's exit status; %s", run.logText("fio-front.log")).isEqualTo("0");
        assertThat(job.path("error").asInt()).as("fio's error").isZero();
        assertThat(job.path("write").path("io_bytes").asLong()).as("bytes fio wrote").isEqualTo(SECOND_FILE_BYTES);
        assertThat(job.path("read").path("io_bytes").asLong()).as("bytes fio read back and verified")
                .isEqualTo(SECOND_FILE_BYTES);
        assertThat(run.fact("kernel_io_errors_front")).as("I/O errors in the guest's kernel log:\n%s",
                run.logText("dmesg-front.log")).isEqualTo("0");
        // Each of the four connections is reported dead on its own; one reconnection replaces them
        // all, and a late report may cause a second, which the driver answers with "no dead socket".
        assertThat(Integer.parseInt(run.fact("attach_reconnects"))).as("parityd attach's reconnections; its log:\n%s",
                run.logText("attach.log")).isBetween(1, 4);
        assertThat(run.logText("attach.log")).contains("(4 connections)");
        assertThat(run.fact("fsck_ext4_front")).as("fsck.ext4 -fn; %s", run.logText("fsck.ext4-front.log")).isEqualTo("0");
        assertThat(run.fact("attach_exit")).as("parityd attach's exit status after SIGTERM").isEqualTo("0");
        assertThat(run.logText("attach.log")).contains("detached /dev/nbd0");
    }

    @Test
    void shouldLeaveAWholeFilesystemAndConsistentParity() throws Exception {
        assertThat(run.fact("fsck_ext4")).as("fsck.ext4 -fn; %s", run.logText("fsck.ext4.log")).isEqualTo("0");
        JsonNode reverify = JSON.readTree(run.result("fio-ha-reverify.json")).path("jobs").path(0);
        assertThat(run.fact("reverify_exit")).as("fio --verify_only through a fresh attach").isEqualTo("0");
        assertThat(reverify.path("read").path("io_bytes").asLong()).as("bytes verified again").isEqualTo(FILE_BYTES);
        assertThat(run.fact("front_exit")).as("the front's exit status after SIGTERM").isEqualTo("0");
        assertThat(run.fact("survivor_exit")).as("the surviving controller's exit status after SIGTERM").isEqualTo("0");
        assertThat(run.fact("returned_exit")).as("the returned controller's exit status after SIGTERM").isEqualTo("0");
        assertThat(run.fact("parity_check")).as("parityd check; %s", run.logText("check.log")).isEqualTo("0");
    }
}
