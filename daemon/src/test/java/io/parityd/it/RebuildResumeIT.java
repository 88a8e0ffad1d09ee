package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A rebuild survives a restart: its position is persisted in the superblocks, and the next
 * serve carries on from there rather than from the start. A spare added at run time is used when
 * a member fails.
 */
class RebuildResumeIT extends DaemonTestBase {

    @Test
    void shouldResumeARebuildAfterARestart() throws Exception {
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create("resume", "129M", members);
        // 128 MiB at 8 MiB/s: sixteen seconds, plenty of time to stop it halfway.
        daemon = Arrays.serve(dir.resolve("parityd-1.log"), members, "--rebuild-max-rate", "8M");
        Admin admin = new Admin(Arrays.adminSocket(dir.resolve("parityd-1.log")));
        KnownData known = new KnownData(51);
        known.write(daemon.uri(), "resume");
        Path replacement = SparseFiles.create(dir.resolve("new0.img"), 129L << 20);
        assertThat(admin.run("replace", "--no-wait", "0", replacement.toString()).exitCode()).isZero();
        JsonNode midway = admin.awaitStatus(s -> rebuildDone(s) > 0, Duration.ofMinutes(1), "some rebuild progress");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        assertThat(daemon.log()).contains("rebuild of slot 0 stopped");

        List<Path> now = new ArrayList<>(List.of(replacement, members.get(1), members.get(2)));
        daemon = Arrays.serve(dir.resolve("parityd-2.log"), now, "--rebuild-max-rate", "32M");
        admin = new Admin(Arrays.adminSocket(dir.resolve("parityd-2.log")));
        assertThat(daemon.log()).contains("resuming the rebuild of slot 0");
        long resumedAt = rebuildDone(admin.status());
        assertThat(resumedAt).as("resumed, not restarted (stopped after %d)", rebuildDone(midway)).isPositive();
        admin.awaitClean(Duration.ofMinutes(2));
        Parityd.Result scrub = admin.run("scrub");
        assertThat(scrub.stdout()).contains(": 0 parity mismatches");
        known.assertIntact(daemon.uri(), "resume");
    }

    @Test
    void shouldUseASpareAddedAtRunTime() throws Exception {
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("late", "65M", members, "--level", "6");
        daemon = Arrays.serve(dir.resolve("parityd.log"), members);
        Admin admin = new Admin(Arrays.adminSocket(dir.resolve("parityd.log")));
        KnownData known = new KnownData(52);
        known.write(daemon.uri(), "late");
        Path spare = SparseFiles.create(dir.resolve("spare.img"), 65L << 20);
        Parityd.Result added = admin.run("add-spare", spare.toString());
        assertThat(added.exitCode()).as(added.all()).isZero();
        assertThat(admin.status().get("spares").get(0).asText()).isEqualTo(spare.toString());

        assertThat(admin.run("fail", members.get(2).toString()).exitCode()).isZero();
        JsonNode clean = admin.awaitClean(Duration.ofMinutes(2));
        assertThat(clean.get("members").get(2).get("path").asText()).isEqualTo(spare.toString());
        known.assertIntact(daemon.uri(), "late");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();

        // The spare is a member now: the array serves from the new member list.
        List<Path> now = new ArrayList<>(members);
        now.set(2, spare);
        Arrays.assertParityClean(now);
    }

    private static long rebuildDone(JsonNode status) {
        for (JsonNode task : status.get("tasks")) {
            if (task.get("kind").asText().equals("rebuild")) {
                return task.get("done").asLong();
            }
        }
        return -1;
    }
}
