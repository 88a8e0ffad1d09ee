package io.parityd.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.parityd.block.BlockDevice;
import io.parityd.block.CrashSwitch;
import io.parityd.block.CrashingDevice;
import io.parityd.block.SimulatedCrash;

/**
 * What the engine does when a member call dies with the process ({@link SimulatedCrash}, a
 * RuntimeException) rather than failing with an IOException: the crash reaches the caller of the
 * volume unchanged, no slot is marked faulty, no listener hears of it, the stripe locks are free
 * and the caller's buffer is restored; after {@link CrashSwitch#reset()} the same volume serves
 * again. Checked at every modifying call of a multi-stripe write, for each level.
 */
class CrashingMemberTest {

    private static final int CHUNK = 16 * 1024;
    private static final long STRIPES = 16;
    private static final long DATA_OFFSET = 64 * 1024;

    private final CrashSwitch crash = new CrashSwitch();
    private final RecordingListener listener = new RecordingListener();
    private final StripeLocks locks = new StripeLocks(64);
    private final ExecutorService other = Executors.newSingleThreadExecutor();

    @AfterEach
    void stopOther() {
        other.shutdownNow();
    }

    @ParameterizedTest(name = "RAID-{0}")
    @ValueSource(ints = {0, 1, 5, 6})
    void shouldPassASimulatedCrashToTheCallerWithoutFailingAMemberAtEveryPointOfAWrite(int level) throws Exception {
        try (RaidVolume volume = open(level, Collections.nCopies(4, MemberState.ACTIVE))) {
            long stripe = volume.size() / STRIPES;
            long offset = stripe / 2 + 4096;
            ByteBuffer data = random(2 * (int) stripe + 8192, level);
            volume.write(data.duplicate(), offset, true);
            long calls = crash.modifyingCalls();
            assertThat(calls).as("the dry run reached the members").isPositive();

            for (long k = 1; k <= calls; k++) {
                for (boolean after : new boolean[] {false, true}) {
                    crash.arm(k, after);
                    ByteBuffer src = data.duplicate();
                    int position = src.position();

                    assertThatThrownBy(() -> volume.write(src, offset, true)).as("k=%d after=%s", k, after)
                            .isInstanceOf(SimulatedCrash.class);

                    assertUntouchedByTheCrash(volume, offset / stripe, (offset + data.remaining() - 1) / stripe);
                    assertThat(src.position()).as("caller's buffer restored").isEqualTo(position);
                    assertThat(src.limit()).isEqualTo(data.limit());
                    crash.reset();
                }
            }
            volume.write(data.duplicate(), offset, true);
            assertThat(read(volume, offset, data.remaining())).as("the volume serves again").isEqualTo(data);
        }
    }

    @ParameterizedTest(name = "RAID-{0}")
    @ValueSource(ints = {1, 5, 6})
    void shouldPassASimulatedCrashThroughDegradedReadsFlushAndZeroing(int level) throws Exception {
        List<MemberState> states = new ArrayList<>(Collections.nCopies(4, MemberState.ACTIVE));
        states.set(1, MemberState.MISSING);
        try (RaidVolume volume = open(level, states)) {
            crash.arm(1);
            assertThatThrownBy(() -> volume.writeZeroes(0, volume.size(), false, false))
                    .isInstanceOf(SimulatedCrash.class);
            assertUntouchedByTheCrash(volume, 0, STRIPES - 1);

            // Reads and flushes are not counted, but a dead process does neither.
            assertThatThrownBy(() -> read(volume, 0, (int) volume.size())).isInstanceOf(SimulatedCrash.class);
            assertThatThrownBy(volume::flush).isInstanceOf(SimulatedCrash.class);
            assertUntouchedByTheCrash(volume, 0, STRIPES - 1);

            crash.reset();
            volume.writeZeroes(0, volume.size(), false, true);
            assertThat(read(volume, 0, (int) volume.size())).isEqualTo(ByteBuffer.allocate((int) volume.size()));
        }
    }

    /** No slot changed state, nobody was told of a failure, and no stripe lock is held by anyone. */
    private void assertUntouchedByTheCrash(RaidVolume volume, long firstStripe, long lastStripe) throws Exception {
        assertThat(volume.slots()).extracting(SlotView::state).doesNotContain(MemberState.FAULTY);
        assertThat(listener.failures).as("no member failure reported").isEmpty();
        for (long s = firstStripe; s <= lastStripe; s++) {
            assertThat(locks.isHeldByCurrentThread(s)).as("stripe %d lock held by the crashed caller", s).isFalse();
        }
        other.submit(() -> {
            locks.lock(firstStripe, lastStripe);
            locks.unlock(firstStripe, lastStripe);
        }).get(10, TimeUnit.SECONDS);
    }

    private RaidVolume open(int level, List<MemberState> states) {
        ArrayGeometry g = TestArray.geometry(level, states.size(), CHUNK, DATA_OFFSET, STRIPES);
        List<BlockDevice> devices = new ArrayList<>();
        for (int i = 0; i < states.size(); i++) {
            MemoryDevice medium = new MemoryDevice("m" + i, (int) (DATA_OFFSET + g.memberDataSize()));
            devices.add(states.get(i) == MemberState.ACTIVE ? new CrashingDevice(medium, crash) : null);
        }
        return RaidVolumes.open(g, devices, states, null, listener, locks, RebuildTuning.DEFAULT);
    }

    private static ByteBuffer random(int length, long seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return ByteBuffer.wrap(bytes);
    }

    private static ByteBuffer read(RaidVolume volume, long offset, int length) throws Exception {
        ByteBuffer dst = ByteBuffer.allocate(length);
        volume.read(dst, offset);
        return dst.flip();
    }
}
