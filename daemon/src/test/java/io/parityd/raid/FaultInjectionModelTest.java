package io.parityd.raid;

import io.parityd.block.FaultMode;
import io.parityd.block.FaultyDevice;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/**
 * Random writes, zeroings, trims, reads and flushes against a byte-array model while members,
 * wrapped in {@link FaultyDevice}, start failing at a seeded rate mid-run. While the level
 * carries the failures, no operation fails and every read matches; the failing slots end FAULTY
 * and the listener heard of each exactly once. With one failure more than the level carries,
 * exactly the operations that touch a chunk of a failed member fail, and the rest still match.
 */
class FaultInjectionModelTest {

    private static final int CHUNK = 4096;
    private static final int SECTOR = 512;
    private static final int STRIPES = 24;

    @ParameterizedTest(name = "RAID-{0} on {1}, slots {2} start failing, seed {3}")
    @CsvSource({"5, 5, 3, 1", "5, 4, 0, 2", "4, 4, 3, 3", "6, 6, 1+4, 4", "6, 5, 0+2, 5", "1, 3, 0+2, 6"})
    void shouldHideFailuresTheLevelCarries(int level, int members, String failing, long seed) throws Exception {
        Random random = new Random(seed);
        RecordingListener listener = new RecordingListener();
        ArrayGeometry g = TestArray.geometry(level, members, CHUNK, 4096, STRIPES);
        List<FaultyDevice> devices = faulty(g, members);
        int[] slots = Arrays.stream(failing.split("\\+")).mapToInt(Integer::parseInt).toArray();
        try (RaidVolume volume = ReconstructionTest.open(g, devices, listener)) {
            byte[] model = new byte[(int) volume.size()];
            VolumeChecks.fill(volume, model, random);
            for (int op = 0; op < 3000; op++) {
                if (op % 1000 == 500 && op / 1000 < slots.length) {
                    devices.get(slots[op / 1000]).setMode(
                            FaultMode.rate(EnumSet.allOf(FaultMode.Op.class), 0.05, seed * 10 + op));
                }
                int o = op;
                assertThatCode(() -> step(volume, model, random, "op " + o)).as("op %d", op).doesNotThrowAnyException();
            }
            VolumeChecks.assertReads(volume, model, random, "end");
            for (int slot = 0; slot < members; slot++) {
                int id = slot;
                boolean failed = Arrays.stream(slots).anyMatch(s -> s == id);
                assertThat(volume.slots().get(slot).state()).as("slot %d", slot)
                        .isEqualTo(failed ? MemberState.FAULTY : MemberState.ACTIVE);
                assertThat(listener.failuresOf(slot)).as("failures heard of slot %d", id).isEqualTo(failed ? 1 : 0);
            }
            for (int slot : slots) {
                volume.rebuild(slot, ReconstructionTest.memory(g, "new" + slot), 0);
            }
            for (int slot : slots) {
                listener.awaitFinished(slot);
            }
            ScrubReport report = volume.scrub(0, STRIPES, false, 10, null);
            assertThat(report.mismatches()).as("mismatches %s", report.firstMismatches()).isZero();
            VolumeChecks.assertReads(volume, model, random, "rebuilt");
        }
    }

    @ParameterizedTest(name = "RAID-{0} on {1}, slots {2} dead, seed {3}")
    @CsvSource({"5, 5, 1+3, 7", "4, 4, 0+3, 8", "6, 6, 0+2+5, 9", "0, 3, 1, 10"})
    void shouldFailOnlyRequestsTouchingLostChunksBeyondRedundancy(int level, int members, String dead, long seed)
            throws Exception {
        Random random = new Random(seed);
        RecordingListener listener = new RecordingListener();
        ArrayGeometry g = TestArray.geometry(level, members, CHUNK, 4096, STRIPES);
        Layout layout = new Layout(g);
        List<FaultyDevice> devices = faulty(g, members);
        long lost = 0;
        for (String s : dead.split("\\+")) {
            lost |= 1L << Integer.parseInt(s);
        }
        try (RaidVolume volume = ReconstructionTest.open(g, devices, listener)) {
            byte[] model = new byte[(int) volume.size()];
            VolumeChecks.fill(volume, model, random);
            boolean[] known = new boolean[model.length];
            Arrays.fill(known, true);
            for (long m = lost; m != 0; m &= m - 1) {
                devices.get(Long.numberOfTrailingZeros(m)).setMode(FaultMode.broken(EnumSet.allOf(FaultMode.Op.class)));
            }
            try {
                volume.flush();
            } catch (IOException expected) {
                // the flush that finds members dead beyond redundancy fails; later ones do not
            }
            assertThat(volume.failedSlots()).isEqualTo(Long.bitCount(lost));
            int failedOps = 0;
            for (int op = 0; op < 1500; op++) {
                failedOps += beyondStep(volume, layout, lost, model, known, random, op) ? 1 : 0;
            }
            assertThat(failedOps).as("some operations must have touched lost chunks").isPositive();
            for (int slot = 0; slot < members; slot++) {
                assertThat(listener.failuresOf(slot)).isEqualTo((int) (lost >>> slot & 1));
            }
            volume.flush();
        }
    }

    /** One random operation of the healthy-or-carried model; fails the test by throwing. */
    static void step(RaidVolume volume, byte[] model, Random random, String what) throws IOException {
        int kind = random.nextInt(100);
        long sd = volume.geometry().stripeDataSize();
        int length = VolumeChecks.randomLength(random, sd, model.length);
        int offset = SECTOR * random.nextInt((model.length - length) / SECTOR + 1);
        if (kind < 55) {
            byte[] data = new byte[length];
            random.nextBytes(data);
            volume.write(ByteBuffer.wrap(data), offset, random.nextInt(10) == 0);
            System.arraycopy(data, 0, model, offset, length);
        } else if (kind < 65) {
            volume.writeZeroes(offset, length, random.nextBoolean(), random.nextInt(10) == 0);
            Arrays.fill(model, offset, offset + length, (byte) 0);
        } else if (kind < 72) {
            volume.trim(offset, length, false);
            long from = (offset + sd - 1) / sd * sd;
            long to = (offset + length) / sd * sd;
            if (from < to) {
                Arrays.fill(model, (int) from, (int) to, (byte) 0);
            }
        } else if (kind < 97) {
            VolumeChecks.assertRange(volume, model, offset, length, what);
        } else {
            volume.flush();
        }
    }

    /** One operation; asserts it failed exactly if it touched a lost chunk. Returns whether it failed. */
    private static boolean beyondStep(RaidVolume volume, Layout layout, long lost, byte[] model, boolean[] known,
                                      Random random, int op) throws IOException {
        int kind = random.nextInt(100);
        long sd = volume.geometry().stripeDataSize();
        int length = VolumeChecks.randomLength(random, sd, model.length);
        int offset = SECTOR * random.nextInt((model.length - length) / SECTOR + 1);
        boolean touches = touchesLost(layout, lost, offset, length);
        IOException failure = null;
        byte[] data = null;
        try {
            if (kind < 45) {
                data = new byte[length];
                random.nextBytes(data);
                volume.write(ByteBuffer.wrap(data), offset, false);
            } else if (kind < 55) {
                data = new byte[length];
                volume.writeZeroes(offset, length, false, false);
            } else {
                assertKnownBytes(volume, model, known, offset, length, "op " + op);
            }
        } catch (IOException e) {
            failure = e;
        }
        assertThat(failure != null).as("op %d (kind %d) at %d+%d touches a lost chunk: %s (%s)", op, kind, offset,
                length, touches, failure).isEqualTo(touches);
        if (failure != null) {
            assertThat(failure.getMessage()).contains("cannot be served").contains("failed");
        }
        if (data != null) {
            System.arraycopy(data, 0, model, offset, length);
            Arrays.fill(known, offset, offset + length, failure == null);
        }
        return failure != null;
    }

    private static void assertKnownBytes(RaidVolume volume, byte[] model, boolean[] known, int offset, int length,
                                         String what) throws IOException {
        ByteBuffer got = ByteBuffer.allocate(length);
        volume.read(got, offset);
        for (int i = 0; i < length; i++) {
            if (known[offset + i] && got.get(i) != model[offset + i]) {
                throw new AssertionError(what + ": byte " + (offset + i) + " differs from the model");
            }
        }
    }

    private static boolean touchesLost(Layout layout, long lost, long offset, int length) {
        for (long pos = offset; pos < offset + length; pos = (pos / layout.chunkSize() + 1) * layout.chunkSize()) {
            if ((lost >>> layout.memberOf(pos) & 1) != 0) {
                return true;
            }
        }
        return false;
    }

    private static List<FaultyDevice> faulty(ArrayGeometry g, int members) {
        List<FaultyDevice> devices = new ArrayList<>();
        for (MemoryDevice m : ReconstructionTest.memories(g, members)) {
            devices.add(new FaultyDevice(m));
        }
        return devices;
    }
}
