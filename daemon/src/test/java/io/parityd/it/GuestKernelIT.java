package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The way parityd's users attach it: Linux's own NBD client ({@code nbd-client}, the kernel's
 * {@code nbd} driver) in a QEMU guest running Debian's kernel, with ext4 and XFS made, filled,
 * checked and re-read on {@code /dev/nbd0}, and the kernel client's habits visible in parityd's
 * log and metrics. With {@code -Dparityd.guest.reference=true} ({@code bench/guest-vs-md.sh}) the
 * same fio and ext4 workload then runs on parityd and on Linux md RAID-5 in the same guest for
 * figures side by side (printed, never asserted: it is one run under emulation); the suite leaves
 * it out, as it measures and checks nothing the other tests do not.
 *
 * <p>One guest runs the whole scenario ({@code src/test/guest/kernel-client.sh}); each test
 * asserts on one part of what it left behind.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuestKernelIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The parityd-vs-md reference workload runs too (bench/guest-vs-md.sh). */
    private static final boolean REFERENCE = Boolean.getBoolean("parityd.guest.reference");

    private GuestRig.Run run;
    private long deviceBytes;

    @BeforeAll
    void runScenario() throws Exception {
        run = GuestRig.run("kernel-client.sh", "kernel-client", 3072, Duration.ofMinutes(15),
                REFERENCE ? "REFERENCE=1\n" : "");
        System.out.println(run.console());
        GuestRig.assertRan(run);
        deviceBytes = Long.parseLong(run.fact("device_bytes"));
    }

    @Test
    void shouldAttachWithTheKernelClientWhichNeverAsksForStructuredReplies() {
        Matcher served = Pattern.compile("serving 'vol0' \\((\\d+) bytes\\)").matcher(run.logText("serve.log"));
        assertThat(served.find()).as("parityd's serving line").isTrue();
        assertThat(deviceBytes).as("size of /dev/nbd0").isEqualTo(Long.parseLong(served.group(1)));
        assertThat(run.fact("logical_block_size")).as("/dev/nbd0's logical block size").isEqualTo("512");

        List<String> attached = run.logText("serve.log").lines().filter(l -> l.contains("attached to export 'vol0'")).toList();
        // 1 + 1 (ext4, then re-read) + 4 + 4 (XFS with -C 4, then re-read) [+ 1 (the reference workload)]
        assertThat(attached).as("attach lines").hasSize(REFERENCE ? 11 : 10)
                .allSatisfy(l -> assertThat(l).contains("structured replies: no"));
    }

    @Test
    void shouldServe512ByteRequestsAtAnyAlignment() {
        assertThat(run.fact("sector_roundtrip")).isEqualTo("ok");
        String scrape = run.result("raw-io.prom");
        assertThat(GuestRig.series(scrape, "parityd_nbd_request_size_bytes_bucket{command=\"write\",le=\"512.0\"}"))
                .as("writes of 512 bytes").isGreaterThanOrEqualTo(1);
        assertThat(GuestRig.series(scrape, "parityd_nbd_request_size_bytes_bucket{command=\"read\",le=\"512.0\"}"))
                .as("reads of 512 bytes").isGreaterThanOrEqualTo(1);
    }

    @Test
    void shouldServeTheKernelClients32MiBRequests() {
        assertThat(run.fact("max_request_kib")).as("/dev/nbd0's max_hw_sectors_kb").isEqualTo("32768");
        assertThat(run.fact("big_roundtrip")).isEqualTo("ok");
        String scrape = run.result("raw-io.prom");
        for (String command : List.of("write", "read")) {
            double upTo32 = GuestRig.series(scrape, "parityd_nbd_request_size_bytes_bucket{command=\"" + command + "\",le=\"3.3554432E7\"}");
            double upTo4 = GuestRig.series(scrape, "parityd_nbd_request_size_bytes_bucket{command=\"" + command + "\",le=\"4194304.0\"}");
            assertThat(upTo32 - upTo4).as("%s requests over 4 MiB, up to 32 MiB", command).isGreaterThanOrEqualTo(1);
            assertThat(GuestRig.series(scrape, "parityd_nbd_request_size_bytes_max{command=\"" + command + "\"}"))
                    .as("largest %s", command).isEqualTo(32 << 20);
        }
    }

    @Test
    void shouldTrimTheWholeDeviceWhenMkfsDiscardsIt() {
        String afterExt4 = run.result("mkfs-ext4.prom");
        assertThat(GuestRig.series(afterExt4, "parityd_nbd_request_size_bytes_max{command=\"trim\"}"))
                .as("mkfs.ext4's TRIM: one request for the whole device").isEqualTo(deviceBytes);
        assertThat(GuestRig.series(afterExt4, "parityd_nbd_request_errors_total{command=\"trim\",errno=\"EINVAL\"}")).isZero();
        String afterXfs = run.result("mkfs-xfs.prom");
        double trimmedByXfs = GuestRig.series(afterXfs, "parityd_nbd_request_size_bytes_sum{command=\"trim\"}")
                - GuestRig.series(afterExt4, "parityd_nbd_request_size_bytes_sum{command=\"trim\"}");
        assertThat(trimmedByXfs).as("bytes mkfs.xfs trimmed (over four connections)").isGreaterThanOrEqualTo(deviceBytes);
    }

    @Test
    void shouldReceiveAFlushWhenAFileIsFsynced() {
        assertThat(Double.parseDouble(run.fact("flush_after_fsync")))
                .as("FLUSH requests after dd conv=fsync, against before")
                .isGreaterThan(Double.parseDouble(run.fact("flush_before_fsync")));
    }

    @Test
    void shouldServeFourConnectionsOfOneClient() {
        assertThat(run.fact("connections_with_C4")).as("parityd_nbd_connections with nbd-client -C 4").isEqualTo("4.0");
        assertThat(run.fact("xfs_repair")).as("xfs_repair -n exit status (XFS made and filled over -C 4)").isEqualTo("0");
        assertThat(run.fact("verify_xfs")).isEqualTo("ok");
    }

    @Test
    void shouldKeepAnExt4FilesystemWholeAcrossReattach() {
        assertThat(run.fact("fsck_ext4")).as("fsck.ext4 -fn exit status; its output:\n%s", run.logText("fsck.ext4.log"))
                .isEqualTo("0");
        assertThat(run.fact("verify_ext4")).as("sha256sum -c after reattaching; %s", run.logText("verify-ext4.log"))
                .isEqualTo("ok");
    }

    @Test
    void shouldKeepAnXfsFilesystemWholeAcrossReattach() {
        assertThat(run.fact("xfs_repair")).as("xfs_repair -n exit status; its output:\n%s", run.logText("xfs_repair.log"))
                .isEqualTo("0");
        assertThat(run.fact("verify_xfs")).as("sha256sum -c after reattaching; %s", run.logText("verify-xfs.log"))
                .isEqualTo("ok");
    }

    @Test
    void shouldDisconnectCleanlyAndLeaveConsistentParity() {
        String log = run.logText("serve.log");
        List<String> detached = log.lines().filter(l -> l.contains("detached from export 'vol0'")).toList();
        assertThat(detached).as("detach lines").hasSize(REFERENCE ? 11 : 10).allSatisfy(l -> assertThat(l).endsWith("(NBD_CMD_DISC)"));
        String scrape = run.result("detached.prom");
        assertThat(GuestRig.series(scrape, "parityd_nbd_connections")).isZero();
        assertThat(GuestRig.sum(scrape, "parityd_nbd_request_errors_total")).as("requests answered with an error").isZero();
        assertThat(run.fact("serve_exit")).as("parityd's exit status after SIGTERM").isEqualTo("0");
        assertThat(log).contains("array 'vol0' stopped cleanly");
        assertThat(run.fact("parity_check")).as("parityd check; %s", run.logText("check.log")).isEqualTo("0");
    }

    /**
     * Issue 17: the ext4 part (512-byte and 32 MiB direct I/O, mkfs with its whole-device discard,
     * files, fsck, a fresh attach and every file read back) runs through nbd-client's TLS; XFS
     * and the rest in plain text against the same server (--tls on).
     */
    @Test
    void shouldCarryExt4OverTlsWithTheKernelClient() {
        List<String> attached = run.logText("serve.log").lines().filter(l -> l.contains("attached to export 'vol0'")).toList();
        assertThat(attached.subList(0, 2)).as("the ext4 attaches").allSatisfy(l -> assertThat(l).endsWith("TLS: yes)"));
        assertThat(attached.subList(2, attached.size())).as("the plain ones").allSatisfy(l -> assertThat(l).endsWith("TLS: no)"));
        assertThat(run.logText("serve.log")).contains("; TLS offered");
        assertThat(run.fact("big_roundtrip")).as("32 MiB through TLS").isEqualTo("ok");
        assertThat(run.fact("fsck_ext4")).isEqualTo("0");
        assertThat(run.fact("verify_ext4")).isEqualTo("ok");
    }

    @Test
    void shouldRunTheSameWorkloadOnMdRaid5ForReference() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(REFERENCE,
                "figures only, left out of the suite: run bench/guest-vs-md.sh (-Dparityd.guest.reference=true)");
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "%nSame guest, same tmpfs, 4 members, RAID-5, chunk 64 KiB (TCG emulation: compare within this run only)%n"
                + "%-34s %14s %14s %8s%n", "workload", "parityd", "md", "ratio"));
        for (String job : List.of("seqwrite", "randwrite", "randread")) {
            double parityd = figure(job, "parityd");
            double md = figure(job, "md");
            assertThat(parityd).as("parityd %s", job).isPositive();
            assertThat(md).as("md %s", job).isPositive();
            String unit = job.equals("seqwrite") ? "MiB/s" : "IOPS";
            table.append(String.format(Locale.ROOT, "%-34s %14.1f %14.1f %8.2f%n",
                    "fio " + job + " (" + unit + ", QD 8, direct)", parityd, md, parityd / md));
        }
        double filesParityd = Double.parseDouble(run.fact("files_seconds_parityd"));
        double filesMd = Double.parseDouble(run.fact("files_seconds_md"));
        table.append(String.format(Locale.ROOT, "%-34s %14.2f %14.2f %8.2f%n", "ext4: 40 files + sync (s)",
                filesParityd, filesMd, filesParityd / filesMd));
        System.out.println(table);
        Files.writeString(run.work().resolve("figures.txt"), table, StandardCharsets.UTF_8);
    }

    /** MiB/s for the sequential job, IOPS for the random ones. */
    private double figure(String job, String label) throws IOException {
        JsonNode j = JSON.readTree(run.result("fio-" + label + "-" + job + ".json")).path("jobs").path(0);
        assertThat(j.path("error").asInt()).as("fio %s on %s: error", job, label).isZero();
        JsonNode side = j.path(job.endsWith("read") ? "read" : "write");
        return job.equals("seqwrite") ? side.path("bw_bytes").asDouble() / (1 << 20) : side.path("iops").asDouble();
    }
}
