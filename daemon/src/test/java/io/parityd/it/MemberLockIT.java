package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * G4 and G5 at the member: while one daemon serves an array, a second process that would write
 * its members (another {@code serve}, a {@code create --force}) is refused by name, changes
 * nothing, and the first goes on serving what it was given.
 */
class MemberLockIT extends DaemonTestBase {

    @Test
    void shouldRefuseASecondWriterOfAServedArrayAndKeepServing() throws Exception {
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("held", "17M", members);
        daemon = Arrays.serve(dir.resolve("first.log"), members);
        KnownData data = new KnownData(7);
        data.write(daemon.uri(), daemon.exportName());

        List<String> second = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:0", "--no-journal",
                "--admin-socket", dir.resolve("second.sock").toString()));
        second.addAll(Arrays.paths(members));
        Parityd.Result refused = Parityd.run(second.toArray(String[]::new));
        assertThat(refused.exitCode()).as(refused.all()).isEqualTo(1);
        assertThat(refused.stderr()).contains(members.get(0) + ": in use: another process holds it for writing")
                .contains("stop the other process first");

        List<String> recreate = new ArrayList<>(List.of("create", "--name", "clobber", "--force"));
        recreate.addAll(Arrays.paths(members));
        Parityd.Result clobber = Parityd.run(recreate.toArray(String[]::new));
        assertThat(clobber.exitCode()).as(clobber.all()).isNotZero();
        assertThat(clobber.stderr()).contains("in use");

        data.assertIntact(daemon.uri(), daemon.exportName());
        assertThat(daemon.terminate(java.time.Duration.ofSeconds(60))).isZero();
        daemon = null;
        Arrays.assertParityClean(members);
        assertThat(Parityd.run("examine", members.get(0).toString()).stdout()).as("still the served array").contains("array:      'held'");
    }
}
