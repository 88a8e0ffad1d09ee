package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.member.LoopDevices;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The raw-device path end to end, on loop devices: create, serve, verify with fio, fail a
 * member, verify degraded, replace it with another device, and check the result. The loop
 * devices are detached whatever happens.
 */
class RawDeviceIT extends DaemonTestBase {

    private static final long SIZE = 65L << 20;

    @RegisterExtension
    final LoopDevices loops = new LoopDevices();

    @Test
    void shouldCreateServeVerifyFailAndReplaceOnBlockDevices() throws Exception {
        LoopDevices.assumeAvailable();
        List<Path> devices = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            devices.add(loops.attach(LoopDevices.backingFile(dir.resolve("backing" + i), SIZE)));
        }
        Path replacement = loops.attach(LoopDevices.backingFile(dir.resolve("backing-new"), SIZE));
        List<String> create = new ArrayList<>(List.of("create", "--name", "raw"));
        create.addAll(Arrays.paths(devices));
        Parityd.Result created = Parityd.run(create.toArray(String[]::new));
        assertThat(created.exitCode()).as(created.all()).isZero();

        // Block devices have no directory beside them: the journal goes to the test's own.
        daemon = Arrays.serve(dir.resolve("parityd.log"), devices, "--nvram", dir.resolve("raw.nvram").toString());
        Admin admin = new Admin(Arrays.adminSocket(dir.resolve("parityd.log")));
        KnownData known = new KnownData(41);
        known.write(daemon.uri(), "raw");
        Fio.writeAndVerify(daemon.uri(), "96m", 32, 41);

        assertThat(admin.run("fail", devices.get(3).toString()).exitCode()).isZero();
        assertThat(admin.slotStates()).containsExactly("active", "active", "active", "faulty");
        Fio.verifyOnly(daemon.uri(), "96m", 32, 41);
        Fio.writeAndVerify(daemon.uri(), "32m", 16, 42);

        Parityd.Result replaced = admin.run("replace", devices.get(3).toString(), replacement.toString());
        assertThat(replaced.exitCode()).as(replaced.all()).isZero();
        admin.awaitClean(Duration.ofMinutes(3));
        Parityd.Result scrub = admin.run("scrub");
        assertThat(scrub.exitCode()).as(scrub.all()).isZero();
        assertThat(scrub.stdout()).contains(": 0 parity mismatches");
        Fio.verifyOnly(daemon.uri(), "32m", 16, 42);
        known.assertIntact(daemon.uri(), "raw");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();

        List<Path> now = new ArrayList<>(devices.subList(0, 3));
        now.add(replacement);
        Arrays.assertParityClean(now);
    }
}
