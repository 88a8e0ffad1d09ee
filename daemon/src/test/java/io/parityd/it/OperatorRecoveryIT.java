package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 16's stories, run as an operator would: a sequence of commands that used to lose an array
 * whose members still held every byte ends with every byte written before the mistake read back,
 * and parity clean.
 */
class OperatorRecoveryIT extends DaemonTestBase {

    private static final Duration REBUILD = Duration.ofMinutes(3);

    /** {@code fail 1}, then {@code fail --force 2}: the array fails; {@code serve --force} brings it back. */
    @Test
    void shouldBringBackAnArrayFailedByHandWithServeForce() throws Exception {
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("vol1", "33M", members);
        daemon = Arrays.serve(dir.resolve("parityd-1.log"), members);
        KnownData before = new KnownData(16);
        before.write(daemon.uri(), daemon.exportName());
        Admin admin = new Admin(Arrays.adminSocket(dir.resolve("parityd-1.log")));

        assertThat(admin.run("fail", "1").exitCode()).isZero();
        Parityd.Result second = admin.run("fail", "--force", "2");
        assertThat(second.exitCode()).as(second.all()).isZero();
        assertThat(admin.status().get("state").asText()).isEqualTo("failed");
        daemon.terminate(Duration.ofSeconds(60));
        daemon = null;

        List<String> serve = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:0"));
        serve.addAll(Arrays.paths(members));
        Parityd.Result refused = Parityd.run(serve.toArray(String[]::new));
        assertThat(refused.exitCode()).as(refused.all()).isEqualTo(1);
        assertThat(refused.stderr()).contains("can run without 1 member, but 2 are unusable");

        daemon = Arrays.serve(dir.resolve("parityd-2.log"), members, "--force");
        assertThat(daemon.log()).as("what --force decided, with the evidence")
                .contains("--force: trusting slot 2 (" + members.get(2))
                .contains("--force: slot 1 (" + members.get(1) + ") stays out");
        admin = new Admin(Arrays.adminSocket(dir.resolve("parityd-2.log")));
        assertThat(admin.slotStates()).containsExactly("active", "faulty", "active", "active");
        before.assertIntact(daemon.uri(), daemon.exportName());

        Path fresh = SparseFiles.create(dir.resolve("fresh.img"), 33L << 20);
        Parityd.Result replace = admin.run("replace", "1", fresh.toString());
        assertThat(replace.exitCode()).as(replace.all()).isZero();
        admin.awaitClean(REBUILD);
        before.assertIntact(daemon.uri(), daemon.exportName());
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;

        List<Path> now = new ArrayList<>(members);
        now.set(1, fresh);
        Arrays.assertParityClean(now);
    }
}
