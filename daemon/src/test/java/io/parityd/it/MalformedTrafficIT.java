package io.parityd.it;

import static io.parityd.it.RawNbdClient.CMD_READ;
import static io.parityd.it.RawNbdClient.CMD_WRITE;
import static io.parityd.it.RawNbdClient.EINVAL;
import static io.parityd.it.RawNbdClient.ENOSPC;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * G5 over raw sockets: malformed and out-of-spec traffic gets the answer proto.md gives, only
 * the offending connection is ever closed, a witness connection keeps working throughout, and
 * no byte of the volume changes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MalformedTrafficIT {

    private static final int MIB = 1 << 20;
    private static final long PATTERN_AT = 8L * MIB;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    @TempDir
    static Path dir;

    private List<Path> members;
    private DaemonProcess daemon;
    private RawNbdClient witness;
    private byte[] pattern;

    @BeforeAll
    void startDaemonAndWritePattern() throws Exception {
        members = Arrays.members(dir, 3);
        Arrays.create("raw", "65M", members);
        daemon = Arrays.serve(dir.resolve("parityd.log"), members);
        witness = RawNbdClient.open(daemon.uri(), "raw", false);
        pattern = new byte[4 * MIB];
        new Random(42).nextBytes(pattern);
        witness.write(PATTERN_AT, pattern);
    }

    @AfterAll
    void verifyNothingChangedAndStop() throws Exception {
        try {
            assertThat(witness.read(PATTERN_AT, pattern.length)).as("pattern after all the abuse").isEqualTo(pattern);
            witness.close();
            assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
            Arrays.assertParityClean(members);
        } finally {
            daemon.close();
        }
    }

    @Test
    void shouldCloseOnGarbageInsteadOfClientFlags() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(daemon.uri())) {
            c.greeting();
            c.out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
            c.out.flush();
            assertThat(c.closedByServer(CLOSE_WAIT)).isTrue();
        }
        assertWitnessWorks();
    }

    @Test
    void shouldCloseOnGarbageInsteadOfAnOption() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(daemon.uri())) {
            c.greeting();
            c.out.writeInt(3);
            c.out.writeLong(0x1122334455667788L);
            c.out.writeInt(7);
            c.out.writeInt(0);
            c.out.flush();
            assertThat(c.closedByServer(CLOSE_WAIT)).isTrue();
        }
        assertWitnessWorks();
    }

    @Test
    void shouldAnswerUnknownOptionWithUnsupAndCarryOn() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(daemon.uri())) {
            c.greeting();
            c.out.writeInt(3);
            c.option(4242, new byte[] {1, 2, 3});
            RawNbdClient.OptionReply reply = c.optionReply();
            assertThat(reply.option()).isEqualTo(4242);
            assertThat(reply.type()).isEqualTo(RawNbdClient.REP_ERR_UNSUP);
            c.go("raw");
            assertThat(c.read(PATTERN_AT, 4096)).isEqualTo(java.util.Arrays.copyOf(pattern, 4096));
        }
    }

    @Test
    void shouldRefuseUnknownExportAndCarryOn() throws Exception {
        try (RawNbdClient c = RawNbdClient.connect(daemon.uri())) {
            c.greeting();
            c.out.writeInt(3);
            byte[] name = "nope".getBytes();
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + name.length + 2).putInt(name.length).put(name).putShort((short) 0);
            c.option(RawNbdClient.OPT_GO, b.array());
            RawNbdClient.OptionReply reply = c.optionReply();
            assertThat(reply.type()).isEqualTo(RawNbdClient.REP_ERR_UNKNOWN);
            assertThat(reply.text()).contains("nope");
            c.go("raw");
            assertThat(c.exportSize).isEqualTo(128L * MIB);
        }
    }

    @Test
    void shouldCloseOnBadRequestMagicOnly() throws Exception {
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), "raw", false)) {
            c.out.writeInt(0xdeadbeef);
            c.out.write(new byte[24]);
            c.out.flush();
            assertThat(c.closedByServer(CLOSE_WAIT)).isTrue();
        }
        assertWitnessWorks();
    }

    @Test
    void shouldRefuseOutOfRangeReadWithEinval() throws Exception {
        for (boolean structured : new boolean[] {false, true}) {
            try (RawNbdClient c = RawNbdClient.open(daemon.uri(), "raw", structured)) {
                c.request(0, CMD_READ, 1, c.exportSize - 4096, 8192, null);
                RawNbdClient.Reply r = c.reply(8192);
                assertThat(r.cookie()).isEqualTo(1);
                assertThat(r.error()).isEqualTo(EINVAL);
                if (structured) {
                    assertThat(r.message()).as("structured ERROR chunk message").isNotBlank();
                }
                c.request(0, CMD_READ, 2, 1L << 62, 4096, null);
                assertThat(c.reply(4096).error()).isEqualTo(EINVAL);
                assertThat(c.read(PATTERN_AT, 512)).hasSize(512);
            }
        }
    }

    @Test
    void shouldRefuseOutOfRangeWriteWithEnospcAndDrainItsPayload() throws Exception {
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), "raw", false)) {
            byte[] junk = new byte[8192];
            java.util.Arrays.fill(junk, (byte) 0x77);
            c.request(0, CMD_WRITE, 3, c.exportSize - 4096, junk.length, junk);
            RawNbdClient.Reply r = c.reply(0);
            assertThat(r.cookie()).isEqualTo(3);
            assertThat(r.error()).isEqualTo(ENOSPC);
            // The payload was drained, so the next request on the same connection decodes cleanly.
            assertThat(c.read(c.exportSize - 4096, 4096)).doesNotContain((byte) 0x77);
        }
    }

    @Test
    void shouldRefuseUnknownCommandFlagWithEinval() throws Exception {
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), "raw", false)) {
            c.request(1 << 10, CMD_READ, 4, PATTERN_AT, 4096, null);
            assertThat(c.reply(4096).error()).isEqualTo(EINVAL);
            byte[] junk = new byte[4096];
            c.request(1 << 10, CMD_WRITE, 5, PATTERN_AT, junk.length, junk);
            assertThat(c.reply(0).error()).isEqualTo(EINVAL);
            c.request(RawNbdClient.FLAG_FUA, 42, 6, 0, 0, null);
            assertThat(c.reply(0).error()).as("unknown command").isEqualTo(EINVAL);
            c.request(0, CMD_WRITE, 7, PATTERN_AT + 100, junk.length, junk);
            assertThat(c.reply(0).error()).as("misaligned write").isEqualTo(EINVAL);
            assertThat(c.read(PATTERN_AT, 4096)).isEqualTo(java.util.Arrays.copyOf(pattern, 4096));
        }
    }

    @Test
    void shouldRefuseWriteLargerThan32MiBAndStayInStep() throws Exception {
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), "raw", false)) {
            byte[] big = new byte[32 * MIB + 4096];
            java.util.Arrays.fill(big, (byte) 0x55);
            c.request(0, CMD_WRITE, 8, 0, big.length, big);
            assertThat(c.reply(0).error()).isEqualTo(EINVAL);
            assertThat(c.read(PATTERN_AT, 4096)).isEqualTo(java.util.Arrays.copyOf(pattern, 4096));
        }
    }

    @Test
    void shouldAcceptAWriteAndAReadOfExactly32MiB() throws Exception {
        byte[] big = new byte[32 * MIB];
        new Random(32).nextBytes(big);
        for (boolean structured : new boolean[] {false, true}) {
            try (RawNbdClient c = RawNbdClient.open(daemon.uri(), "raw", structured)) {
                c.write(64L * MIB, big);
                assertThat(c.read(64L * MIB, big.length)).isEqualTo(big);
            }
        }
    }

    @Test
    void shouldCloseOnAbsurdWriteLength() throws Exception {
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), "raw", false)) {
            c.request(0, CMD_WRITE, 9, 0, 0xF000_0000L, null);
            c.out.write(new byte[65536]);
            c.out.flush();
            assertThat(c.closedByServer(CLOSE_WAIT)).isTrue();
        }
        assertWitnessWorks();
    }

    @Test
    void shouldLeaveVolumeUnchangedWhenClientVanishesMidWrite() throws Exception {
        RawNbdClient c = RawNbdClient.open(daemon.uri(), "raw", false);
        byte[] half = new byte[MIB];
        java.util.Arrays.fill(half, (byte) 0x99);
        DataOutputStream out = c.out;
        out.writeInt(RawNbdClient.REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(CMD_WRITE);
        out.writeLong(10);
        out.writeLong(PATTERN_AT);
        out.writeInt(2 * MIB);
        out.write(half);
        out.flush();
        c.close();
        // A later request on another connection sees the old bytes: the half write never reached the volume.
        assertThat(witness.read(PATTERN_AT, 2 * MIB)).isEqualTo(java.util.Arrays.copyOf(pattern, 2 * MIB));
    }

    private void assertWitnessWorks() throws Exception {
        assertThat(witness.read(PATTERN_AT, 4096)).isEqualTo(java.util.Arrays.copyOf(pattern, 4096));
    }
}
