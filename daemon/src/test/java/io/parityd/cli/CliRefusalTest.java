package io.parityd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The refusals of {@code create} and {@code serve} as an operator meets them on the command
 * line: exit status, and a message naming the problem, the member, and the fix. The library
 * tests (ArrayCreatorTest, ArrayAssemblerTest) show that a refusal changes nothing on disk.
 */
class CliRefusalTest {

    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private String p(String name) {
        return dir.resolve(name).toString();
    }

    @Test
    void shouldCreateAndSayWhatItMade() {
        CliRun r = run("create", "--name", "vol", "--size", "33M", p("a"), p("b"), p("c"));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("created RAID-5 array 'vol'").contains("3 members of 32 MiB").contains("64 MiB usable")
                .contains("serve it with: parityd serve");
    }

    @Test
    void shouldRefuseFewerThanThreeMembers() {
        CliRun r = run("create", "--name", "vol", "--size", "33M", p("a"), p("b"));
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).startsWith("parityd create: RAID-5 needs at least 3 members, got 2")
                .contains("list at least three member files");
        assertThat(dir.resolve("a")).doesNotExist();
    }

    @Test
    void shouldRefuseTheSameMemberTwiceEvenThroughALink() throws Exception {
        CliRun twice = run("create", "--name", "vol", "--size", "33M", p("a"), p("b"), p("a"));
        assertThat(twice.status()).isEqualTo(Main.FAILED);
        assertThat(twice.err()).contains(p("a") + " is listed twice").contains("list each member file once");

        Files.write(dir.resolve("real"), new byte[0]);
        Files.createSymbolicLink(dir.resolve("link"), dir.resolve("real"));
        CliRun linked = run("create", "--name", "vol", "--size", "33M", p("real"), p("b"), p("link"));
        assertThat(linked.status()).isEqualTo(Main.FAILED);
        assertThat(linked.err()).contains("are the same file");
    }

    @Test
    void shouldRefuseAMemberOfAnExistingArrayUnlessForced() {
        assertThat(run("create", "--name", "old", "--size", "33M", p("a"), p("b"), p("c")).status()).isZero();
        CliRun r = run("create", "--name", "new", "--size", "33M", p("a"), p("d"), p("e"));
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).contains(p("a") + " already belongs to").contains("'old'").contains("--force");
        assertThat(dir.resolve("d")).as("nothing created on refusal").doesNotExist();

        CliRun forced = run("create", "--force", "--name", "new", "--size", "33M", p("a"), p("d"), p("e"));
        assertThat(forced.status()).as(forced.err()).isZero();
        assertThat(forced.err()).contains("warning: --force: overwrote " + p("a"));
    }

    @Test
    void shouldRefuseAnUnwritablePath() {
        CliRun r = run("create", "--name", "vol", "--size", "33M", p("a"), p("b"), p("missing-dir/c"));
        assertThat(r.status()).isEqualTo(Main.FAILED);
        assertThat(r.err()).contains("cannot create " + p("missing-dir/c")).contains("does not exist");
    }

    @Test
    void shouldRefuseAChunkThatIsNotAPowerOfTwoOfAtLeast4K() {
        for (String chunk : List.of("3000", "2K", "96K")) {
            CliRun r = run("create", "--name", "vol", "--chunk", chunk, "--size", "33M", p("a"), p("b"), p("c"));
            assertThat(r.status()).as(chunk).isEqualTo(Main.FAILED);
            assertThat(r.err()).as(chunk).contains("is not a power of two of at least 4 KiB");
        }
        CliRun r = run("create", "--name", "vol", "--chunk", "lots", p("a"), p("b"), p("c"));
        assertThat(r.status()).as("a malformed size is a usage error").isEqualTo(2);
        assertThat(r.err()).contains("'lots' is not a size");
    }

    @Test
    void shouldUseTheSmallestMemberAndSaySo() throws Exception {
        for (String name : List.of("a", "b", "c")) {
            try (FileChannel ch = FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(new byte[1]), (name.equals("b") ? 33L : 65L) << 20);
            }
        }
        CliRun r = run("create", "--name", "vol", p("a"), p("b"), p("c"));
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err()).contains("warning:").contains(p("b"));
        assertThat(r.out()).contains("3 members of 32 MiB");
    }

    @Test
    void shouldRefuseToServeWithForeignMembersOrMoreLossesThanTheLevelCarries() throws Exception {
        assertThat(run("create", "--name", "one", "--size", "33M", p("a"), p("b"), p("c")).status()).isZero();
        assertThat(run("create", "--name", "two", "--size", "33M", p("x"), p("y"), p("z")).status()).isZero();

        CliRun foreign = run("serve", p("a"), p("b"), p("x"));
        assertThat(foreign.status()).isEqualTo(Main.FAILED);
        assertThat(foreign.err()).contains(p("x") + " belongs to array 'two'").contains("'one'");

        Files.write(dir.resolve("plain"), new byte[2 << 20]);
        CliRun none = run("serve", p("a"), p("b"), p("plain"));
        assertThat(none.err()).contains(p("plain") + " holds no parityd superblock");

        try (FileChannel ch = FileChannel.open(dir.resolve("c"), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), 100);
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), 4096 + 100);
        }
        CliRun twoLost = run("serve", p("a"), p("nope"), p("c"));
        assertThat(twoLost.status()).isEqualTo(Main.FAILED);
        assertThat(twoLost.err()).startsWith("parityd serve: array 'one' (RAID-5) can run without 1 member, but 2 are unusable")
                .contains(p("nope") + " does not exist").contains(p("c") + " has a damaged superblock")
                .contains("find the missing members");
    }

    @Test
    void shouldRefuseLevelsAndMemberCountsThatDoNotFit() {
        CliRun raid6 = run("create", "--name", "v", "--level", "6", "--size", "33M", p("a"), p("b"), p("c"));
        assertThat(raid6.status()).isEqualTo(Main.FAILED);
        assertThat(raid6.err()).contains("RAID-6 needs at least 4 members, got 3").contains("list at least four member files");
        CliRun raid3 = run("create", "--name", "v", "--level", "3", "--size", "33M", p("a"), p("b"), p("c"));
        assertThat(raid3.err()).contains("RAID-3 is not a RAID level parityd knows").contains("use --level 0, 1, 4, 5 or 6");
        CliRun smallSpare = run("create", "--name", "v", "--size", "33M", "--spare", p("s"), p("a"), p("b"), p("c"));
        assertThat(smallSpare.status()).as(smallSpare.err()).isZero();
        assertThat(smallSpare.out()).contains("hot spares: " + p("s"));
    }

    @Test
    void shouldRefuseToServeOnABusyPortAndLeaveTheArrayClean() throws Exception {
        assertThat(run("create", "--name", "vol", "--size", "33M", p("a"), p("b"), p("c")).status()).isZero();
        try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            CliRun r = run("serve", "--listen", "127.0.0.1:" + busy.getLocalPort(), p("a"), p("b"), p("c"));
            assertThat(r.status()).isEqualTo(Main.FAILED);
            assertThat(r.err()).contains("cannot listen on 127.0.0.1:" + busy.getLocalPort()).contains("choose another with --listen");
        }
        CliRun examined = run("examine", p("a"), p("b"), p("c"));
        assertThat(examined.out()).as("a start that never served leaves the array clean, so no resync follows")
                .doesNotContain("dirty").contains("state:      clean");
    }

    @Test
    void shouldRejectABadListenAddressAsAUsageError() {
        CliRun r = run("serve", "--listen", "host:http", p("a"), p("b"), p("c"));
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--listen").contains("is not a number");
        CliRun both = run("serve", "--listen", "127.0.0.1:1", "--socket", p("s"), p("a"));
        assertThat(both.status()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");
    }

    @Test
    void shouldRejectABadHandshakeTimeoutAsAUsageError() {
        CliRun zero = run("serve", "--handshake-timeout", "0s", p("a"), p("b"), p("c"));
        assertThat(zero.status()).isEqualTo(2);
        assertThat(zero.err()).contains("--handshake-timeout must be more than 0");
        CliRun junk = run("front", "--handshake-timeout", "soon", "--controller", "a=127.0.0.1:1",
                "--controller", "b=127.0.0.1:2", "--secret-file", p("secret"));
        assertThat(junk.status()).isEqualTo(2);
        assertThat(junk.err()).contains("--handshake-timeout 'soon' is not a duration");
    }

    @Test
    void shouldRejectAConnectionLimitBelowOneAsAUsageError() {
        CliRun r = run("serve", "--max-connections", "0", p("a"), p("b"), p("c"));
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--max-connections must be at least 1, got 0");
    }

    /** TLS settings that cannot work are usage errors naming the option or file and the fix; nothing is served. */
    @Test
    void shouldRefuseTlsSettingsThatCannotWork() throws Exception {
        CliRun r = run("serve", "--tls", "maybe", p("a"), p("b"), p("c"));
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--tls must be off, on or require, not 'maybe'");
        r = run("serve", "--tls", "require", p("a"), p("b"), p("c"));
        assertThat(r.err()).contains("--tls require needs --tls-certificates DIR");
        r = run("serve", "--tls-certificates", dir.toString(), p("a"), p("b"), p("c"));
        assertThat(r.err()).contains("--tls-certificates is given but --tls is off: add --tls on");
        r = run("front", "--tls", "on", "--tls-certificates", dir.toString(), "--controller", "a=127.0.0.1:1",
                "--controller", "b=127.0.0.1:2", "--secret-file", p("secret"));
        assertThat(r.err()).contains("has no server-cert.pem");
        java.nio.file.Files.writeString(dir.resolve("server-cert.pem"), "-----BEGIN CERTIFICATE-----\n");
        java.nio.file.Path key = dir.resolve("server-key.pem");
        java.nio.file.Files.writeString(key, "-----BEGIN RSA PRIVATE KEY-----\n");
        java.nio.file.Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        r = run("serve", "--tls", "on", "--tls-certificates", dir.toString(), p("a"), p("b"), p("c"));
        assertThat(r.err()).contains(key + " is a PKCS#1 key").contains("openssl pkcs8 -topk8 -nocrypt");
    }
}
