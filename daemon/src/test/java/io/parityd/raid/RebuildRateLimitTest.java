package io.parityd.raid;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.Collections;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The operator's rebuild rate limit (md's speed_limit_max). Only lower bounds on time are
 * asserted: a rebuild can be slower than its limit on a busy machine, never faster.
 */
class RebuildRateLimitTest {

    private static final int CHUNK = 4096;

    @Test
    void shouldNotRebuildFasterThanItsLimit() throws Exception {
        ArrayGeometry g = TestArray.geometry(5, 3, CHUNK, 4096, 512); // 2 MiB per member
        RecordingListener listener = new RecordingListener();
        try (RaidVolume volume = RaidVolumes.open(g, ReconstructionTest.memories(g, 3),
                Collections.nCopies(3, MemberState.ACTIVE), null, listener, new StripeLocks(),
                new RebuildTuning(64 * CHUNK, 0))) {
            byte[] model = new byte[(int) volume.size()];
            VolumeChecks.fill(volume, model, new Random(3));
            volume.fail(1, new IOException("drill"));
            volume.rebuildRateLimit(2L << 20); // 2 MiB/s: the 2 MiB member takes about a second

            long started = System.nanoTime();
            volume.rebuild(1, ReconstructionTest.memory(g, "new1"), 0);
            listener.awaitFinished(1);
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

            // The last batch is not waited for, so the floor is the time for all batches but one.
            assertThat(elapsedMillis).as("a 2 MiB rebuild at 2 MiB/s").isGreaterThanOrEqualTo(850);
            VolumeChecks.assertReads(volume, model, new Random(4), "after a paced rebuild");
        }
    }

    @Test
    @Timeout(30)
    void shouldStopAPacedRebuildPromptlyOnClose() throws Exception {
        ArrayGeometry g = TestArray.geometry(5, 3, CHUNK, 4096, 512);
        RecordingListener listener = new RecordingListener();
        RaidVolume volume = RaidVolumes.open(g, ReconstructionTest.memories(g, 3),
                Collections.nCopies(3, MemberState.ACTIVE), null, listener, new StripeLocks(),
                new RebuildTuning(64 * CHUNK, 0));
        volume.fail(2, new IOException("drill"));
        volume.rebuildRateLimit(1024); // a kilobyte a second: hours, unless close() cuts it short
        volume.rebuild(2, ReconstructionTest.memory(g, "new2"), 0);
        volume.close();
        assertThat(listener.stoppedAt).containsKey(2);
        assertThat(listener.finished).doesNotContainKey(2);
    }
}
