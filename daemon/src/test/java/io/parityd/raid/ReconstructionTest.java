package io.parityd.raid;

import io.parityd.block.BlockDevice;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Exhaustive losses on small arrays of every level: for every one-member loss, and every
 * two-member loss where the level carries two (RAID-6, RAID-1 of three), write random data, lose
 * the members, read everything back, write more while degraded (random sizes and offsets, across
 * chunks and stripes), read back, rebuild the lost slots onto fresh devices, and check that a
 * scrub finds nothing and every byte reads back — also after failing as many <em>other</em>
 * members as the level carries, so the reads must come from the rebuilt ones.
 */
class ReconstructionTest {

    private static final long STRIPES = 12;
    private static final long DATA_OFFSET = 4096;

    static Stream<Arguments> arrays() {
        List<Arguments> cases = new ArrayList<>();
        int[][] shapes = {{1, 2}, {1, 3}, {4, 3}, {4, 4}, {4, 5}, {5, 3}, {5, 4}, {5, 5}, {6, 4}, {6, 5}, {6, 6}};
        for (int[] shape : shapes) {
            for (int chunk : new int[] {4096, 8192}) {
                for (long lost : lossSets(shape[1], Math.min(2, redundancy(shape[0], shape[1])))) {
                    cases.add(Arguments.of(shape[0], shape[1], chunk, lost));
                }
            }
        }
        return cases.stream();
    }

    static Stream<Arguments> raid0() {
        return Stream.of(Arguments.of(2, 4096, 0), Arguments.of(2, 8192, 1), Arguments.of(3, 4096, 0),
                Arguments.of(3, 4096, 1), Arguments.of(3, 8192, 2));
    }

    @ParameterizedTest(name = "RAID-{0} on {1}, chunk {2}, lose slots {3}")
    @MethodSource("arrays")
    void shouldServeDegradedAndRebuildEveryLoss(int level, int members, int chunk, long lost) throws Exception {
        String what = "RAID-" + level + " n=" + members + " chunk " + chunk + " lost " + Unrecoverable.slots(lost);
        Random random = new Random(31L * level + 7L * members + chunk + lost);
        RecordingListener listener = new RecordingListener();
        ArrayGeometry g = TestArray.geometry(level, members, chunk, DATA_OFFSET, STRIPES);
        try (RaidVolume volume = open(g, memories(g, members), listener)) {
            byte[] model = new byte[(int) volume.size()];
            VolumeChecks.fill(volume, model, random);

            for (long m = lost; m != 0; m &= m - 1) {
                volume.fail(Long.numberOfTrailingZeros(m), new IOException("drill"));
            }
            assertThat(volume.failedSlots()).isEqualTo(Long.bitCount(lost));
            VolumeChecks.assertReads(volume, model, random, what + ", degraded");
            VolumeChecks.randomWrites(volume, model, random, 60);
            volume.writeZeroes(0, volume.geometry().stripeDataSize(), false, false);
            java.util.Arrays.fill(model, 0, (int) volume.geometry().stripeDataSize(), (byte) 0);
            VolumeChecks.assertReads(volume, model, random, what + ", after degraded writes");

            for (long m = lost; m != 0; m &= m - 1) {
                volume.rebuild(Long.numberOfTrailingZeros(m), memory(g, "new" + Long.numberOfTrailingZeros(m)), 0);
            }
            for (long m = lost; m != 0; m &= m - 1) {
                listener.awaitFinished(Long.numberOfTrailingZeros(m));
            }
            assertThat(volume.failedSlots()).isZero();
            assertThat(volume.slots()).allSatisfy(s -> assertThat(s.state()).isEqualTo(MemberState.ACTIVE));
            ScrubReport report = volume.scrub(0, STRIPES, false, 10, null);
            assertThat(report.unchecked()).isZero();
            assertThat(report.mismatches()).as("%s: mismatches %s", what, report.firstMismatches()).isZero();
            VolumeChecks.assertReads(volume, model, random, what + ", rebuilt");

            long others = otherSlots(members, lost, volume.redundancy());
            for (long m = others; m != 0; m &= m - 1) {
                volume.fail(Long.numberOfTrailingZeros(m), new IOException("second drill"));
            }
            VolumeChecks.assertReads(volume, model, random, what + ", rebuilt, then lost " + Unrecoverable.slots(others));
            for (int slot = 0; slot < members; slot++) {
                assertThat(listener.failuresOf(slot)).isEqualTo(((lost | others) >>> slot & 1) == 1 ? 1 : 0);
            }
        }
    }

    @ParameterizedTest(name = "RAID-0 on {0}, chunk {1}, lose slot {2}")
    @MethodSource("raid0")
    void shouldFailOnlyTheRequestsOfTheLostRaid0Member(int members, int chunk, int lostSlot) throws Exception {
        Random random = new Random(members * 100 + lostSlot);
        ArrayGeometry g = TestArray.geometry(0, members, chunk, DATA_OFFSET, STRIPES);
        RecordingListener listener = new RecordingListener();
        try (RaidVolume volume = open(g, memories(g, members), listener)) {
            byte[] model = new byte[(int) volume.size()];
            VolumeChecks.fill(volume, model, random);
            volume.fail(lostSlot, new IOException("drill"));
            for (int at = 0; at < model.length; at += chunk) {
                boolean lost = at / chunk % members == lostSlot;
                int offset = at;
                if (lost) {
                    assertThatThrownBy(() -> volume.read(ByteBuffer.allocate(chunk), offset))
                            .isInstanceOf(IOException.class)
                            .hasMessageContaining("stripe " + at / chunk / members + " cannot be served: slot " + lostSlot);
                    assertThatThrownBy(() -> volume.write(ByteBuffer.allocate(512), offset + 512, false))
                            .isInstanceOf(IOException.class);
                } else {
                    VolumeChecks.assertRange(volume, model, at, chunk, "RAID-0 surviving chunk");
                    byte[] data = new byte[1024];
                    random.nextBytes(data);
                    volume.write(ByteBuffer.wrap(data), at + 1024, false);
                    System.arraycopy(data, 0, model, at + 1024, 1024);
                    VolumeChecks.assertRange(volume, model, at, chunk, "RAID-0 chunk written while degraded");
                }
            }
            assertThatThrownBy(() -> volume.rebuild(lostSlot, memory(g, "new"), 0))
                    .isInstanceOf(IllegalStateException.class);
            ScrubReport report = volume.scrub(0, STRIPES, false, 10, null);
            assertThat(report.unchecked()).isEqualTo(STRIPES);
            assertThat(report.stripesChecked()).isZero();
        }
    }

    static RaidVolume open(ArrayGeometry g, List<? extends BlockDevice> devices, SlotListener listener) {
        return RaidVolumes.open(g, devices, Collections.nCopies(devices.size(), MemberState.ACTIVE), null, listener,
                new StripeLocks(), new RebuildTuning(3L * g.chunkSize(), 0));
    }

    static List<MemoryDevice> memories(ArrayGeometry g, int members) {
        List<MemoryDevice> devices = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            devices.add(memory(g, "m" + i));
        }
        return devices;
    }

    static MemoryDevice memory(ArrayGeometry g, String name) {
        return new MemoryDevice(name, (int) (g.dataOffset() + g.memberDataSize()));
    }

    private static int redundancy(int level, int members) {
        return TestArray.geometry(level, members, 4096, 0, 1).redundancy();
    }

    /** Every set of {@code 1..max} slots out of {@code n}, as bit masks. */
    private static List<Long> lossSets(int n, int max) {
        List<Long> sets = new ArrayList<>();
        for (long mask = 1; mask < 1L << n; mask++) {
            if (Long.bitCount(mask) <= max) {
                sets.add(mask);
            }
        }
        return sets;
    }

    /** As many slots outside {@code lost} as the level carries, leaving at least one member. */
    private static long otherSlots(int members, long lost, int redundancy) {
        long others = 0;
        for (int slot = members - 1; slot >= 0 && Long.bitCount(others) < Math.min(redundancy, members - 1); slot--) {
            if ((lost >>> slot & 1) == 0) {
                others |= 1L << slot;
            }
        }
        return others;
    }
}
