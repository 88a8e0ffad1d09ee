package io.parityd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code parityd attach}'s refusals: each names what is wrong and how to fix it, and none
 * touches a device. (Attaching itself needs the kernel's nbd driver: GuestHaIT does it in a guest.)
 */
class AttachCommandTest {

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void shouldRefuseADeviceThatIsNotAnNbdDevice() {
        CliRun r = run("attach", "--device", "/dev/sda", "127.0.0.1:10809");
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).contains("--device /dev/sda is not a kernel NBD device such as /dev/nbd0");
    }

    @Test
    void shouldRefuseABadConnectionCountOrBlockSize() {
        CliRun r = run("attach", "-C", "0", "127.0.0.1:10809");
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).contains("--connections must be 1 to 64, not 0");
        r = run("attach", "--block-size", "1000");
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).contains("--block-size must be 512, 1024, 2048 or 4096, not 1000");
    }

    @Test
    void shouldRefuseABadAddressOrDuration() {
        CliRun r = run("attach", "127.0.0.1:port");
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).contains("port 'port' is not a number");
        r = run("attach", "--dead-connection-timeout", "soon");
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).contains("--dead-connection-timeout 'soon' is not a duration");
    }

    @Test
    void shouldTakeAnNbdUriAndRefuseOneItCannotUse() {
        assumeFalse(Files.exists(Path.of("/sys/block/nbd999")), "this machine has a /dev/nbd999; skipping");
        // Parsed and accepted: the refusal comes from the missing device, after the address.
        CliRun r = run("attach", "--device", "/dev/nbd999", "nbd://127.0.0.1/vol0");
        assertThat(r.err()).contains("there is no /dev/nbd999");
        r = run("attach", "--name", "other", "nbd://127.0.0.1/vol0");
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).contains("--name 'other' and the URI's export 'vol0' differ: give the export once");
        r = run("attach", "nbd+unix:///vol0?socket=/run/parityd.sock");
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).contains("the kernel's NBD client connects over TCP");
    }

    @Test
    void shouldSayToLoadTheDriverWhenTheDeviceIsMissing() {
        // nbd's default is 16 devices; none has number 999 unless someone asked for it.
        assumeFalse(Files.exists(Path.of("/sys/block/nbd999")), "this machine has a /dev/nbd999; skipping");
        CliRun r = run("attach", "--device", "/dev/nbd999", "127.0.0.1:10809");
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).contains("there is no /dev/nbd999: load the kernel's NBD driver (modprobe nbd");
    }
}
