package io.parityd.raid;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.block.BlockDevice;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A RAID-6 array reopened with two slots still rebuilding resumes both at once, each on its own
 * thread; they must not share scratch buffers, or the rebuilt members would hold each other's
 * data.
 */
class ResumeTwoRebuildsTest {

    private static final int CHUNK = 4096;

    @Test
    void shouldResumeTwoRebuildsAtOnceWithoutMixingThem() throws Exception {
        ArrayGeometry g = TestArray.geometry(6, 6, CHUNK, 4096, 2048);
        List<BlockDevice> devices = new ArrayList<>(ReconstructionTest.memories(g, 6));
        byte[] model;
        try (RaidVolume healthy = RaidVolumes.open(g, devices)) {
            model = new byte[(int) healthy.size()];
            VolumeChecks.fill(healthy, model, new Random(66));
            healthy.stopRebuilds();
        }
        // As if the array stopped while slots 1 and 4 were being rebuilt onto fresh devices.
        List<BlockDevice> reopened = new ArrayList<>(devices);
        reopened.set(1, ReconstructionTest.memory(g, "new1"));
        reopened.set(4, ReconstructionTest.memory(g, "new4"));
        List<MemberState> states = new ArrayList<>(Collections.nCopies(6, MemberState.ACTIVE));
        states.set(1, MemberState.REBUILDING);
        states.set(4, MemberState.REBUILDING);
        RecordingListener listener = new RecordingListener();
        try (RaidVolume volume = RaidVolumes.open(g, reopened, states, new long[6], listener, new StripeLocks(),
                new RebuildTuning(8 * CHUNK, 0))) {
            listener.awaitFinished(1);
            listener.awaitFinished(4);
            ScrubReport report = volume.scrub(0, g.stripes(), false, 10, null);
            assertThat(report.mismatches()).as("mismatching stripes %s", report.firstMismatches()).isZero();
            VolumeChecks.assertReads(volume, model, new Random(1), "after two resumed rebuilds");
            volume.fail(0, new IOException("lean on the rebuilt members"));
            volume.fail(2, new IOException("lean on the rebuilt members"));
            VolumeChecks.assertReads(volume, model, new Random(2), "reading through both rebuilt members");
        }
    }
}
