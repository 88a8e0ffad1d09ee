package io.parityd.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.parityd.member.FileMember;

/**
 * {@link CrashingDevice} and its {@link CrashSwitch}: unarmed it is a faithful layer (the
 * contract), armed it lets exactly k - 1 modifying calls through across every sharing device and
 * then nothing at all.
 */
class CrashingDeviceTest extends BlockDeviceContract {

    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    private final AtomicInteger created = new AtomicInteger();

    @Override
    protected BlockDevice newDevice(long minSize) throws IOException {
        return new CrashingDevice(member(minSize), new CrashSwitch());
    }

    @Test
    void shouldCrashBeforeTheKthModifyingCallCountedAcrossDevices() throws IOException {
        CrashSwitch crash = new CrashSwitch();
        try (CrashingDevice a = new CrashingDevice(member(1 << 20), crash);
             CrashingDevice b = new CrashingDevice(member(1 << 20), crash)) {
            crash.arm(3);
            a.write(block(1), 0, false);
            b.writeZeroes(0, BLOCK, false, false);

            assertThatThrownBy(() -> b.write(block(2), 2 * BLOCK, true)).isInstanceOf(SimulatedCrash.class)
                    .hasMessage("simulated crash at write of 4096 bytes at 8192 on " + b.describe()
                            + " (modifying call 3), before it reached the device");

            assertThat(crash.fired()).isTrue();
            assertThat(crash.modifyingCalls()).isEqualTo(3);
            assertThat(crash.firing()).contains(new CrashSwitch.Firing(b.describe(), "write", 2 * BLOCK, BLOCK, 3,
                    false));
            assertThat(contents(b.next(), 2 * BLOCK)).as("not performed").isEqualTo(new byte[BLOCK]);
            assertThat(contents(a.next(), 0)).as("earlier calls were").isEqualTo(block(1).array());
        }
    }

    @Test
    void shouldCrashAfterPerformingTheKthCallWhenAskedTo() throws IOException {
        CrashSwitch crash = new CrashSwitch();
        try (CrashingDevice a = new CrashingDevice(member(1 << 20), crash)) {
            crash.arm(2, true);
            a.write(block(1), 0, false);

            assertThatThrownBy(() -> a.write(block(2), BLOCK, false)).isInstanceOf(SimulatedCrash.class)
                    .hasMessageEndingWith("(modifying call 2), after it completed");

            assertThat(contents(a.next(), BLOCK)).as("performed, then died").isEqualTo(block(2).array());
            assertThat(crash.firing().orElseThrow().after()).isTrue();
        }
    }

    @Test
    void shouldRefuseEveryCallOnEverySharingDeviceOnceFiredUntilReset() throws IOException {
        CrashSwitch crash = new CrashSwitch();
        try (CrashingDevice a = new CrashingDevice(member(1 << 20), crash);
             CrashingDevice b = new CrashingDevice(member(1 << 20), crash)) {
            crash.arm(1);
            assertThatThrownBy(() -> a.trim(0, BLOCK, false)).isInstanceOf(SimulatedCrash.class);

            for (CrashingDevice d : List.of(a, b)) {
                assertThatThrownBy(() -> d.read(ByteBuffer.allocate(BLOCK), 0)).isInstanceOf(SimulatedCrash.class)
                        .hasMessageStartingWith("simulated crash: read on " + d.describe()
                                + " after the process died at trim of 4096 bytes at 0 on " + a.describe());
                assertThatThrownBy(d::flush).isInstanceOf(SimulatedCrash.class);
                assertThatThrownBy(() -> d.write(block(3), 0, false)).isInstanceOf(SimulatedCrash.class);
                assertThatThrownBy(() -> d.writeZeroes(0, BLOCK, true, false)).isInstanceOf(SimulatedCrash.class);
                assertThatThrownBy(() -> d.trim(0, BLOCK, false)).isInstanceOf(SimulatedCrash.class);
                assertThat(d.size()).as("no I/O: still answers").isEqualTo(1 << 20);
                assertThat(d.zeroesFast(0, BLOCK, true)).isIn(true, false);
            }
            assertThat(crash.modifyingCalls()).as("calls on a dead process are not counted").isEqualTo(1);
            assertThat(contents(b.next(), 0)).isEqualTo(new byte[BLOCK]);

            crash.reset();
            assertThat(crash.fired()).isFalse();
            assertThat(crash.firing()).isEmpty();
            assertThat(crash.modifyingCalls()).isZero();
            b.write(block(4), 0, false);
            b.flush();
            assertThat(contents(b, 0)).isEqualTo(block(4).array());
        }
    }

    @Test
    void shouldCountModifyingCallsUnarmedTooSoADryRunSizesTheMatrix() throws IOException {
        CrashSwitch crash = new CrashSwitch();
        try (CrashingDevice a = new CrashingDevice(member(1 << 20), crash)) {
            a.write(block(1), 0, true);
            a.read(ByteBuffer.allocate(BLOCK), 0);
            a.flush();
            a.writeZeroes(BLOCK, BLOCK, false, false);
            a.trim(0, BLOCK, false);

            assertThat(crash.modifyingCalls()).as("reads and flushes do not count").isEqualTo(3);
            assertThat(crash.fired()).isFalse();

            crash.arm(5);
            assertThat(crash.modifyingCalls()).as("counted from arming").isZero();
            for (int i = 0; i < 4; i++) {
                a.write(block(i), 0, false);
                a.read(ByteBuffer.allocate(BLOCK), 0);
                a.flush();
            }
            assertThat(crash.fired()).isFalse();
            assertThatThrownBy(() -> a.writeZeroes(0, BLOCK, false, false)).isInstanceOf(SimulatedCrash.class);
            assertThat(crash.firing().orElseThrow().operation()).isEqualTo("writeZeroes");
        }
    }

    @Test
    void shouldKeepTheCallsOwnFailureWhenItDiesAfterIt() throws IOException {
        CrashSwitch crash = new CrashSwitch();
        FaultyDevice faulty = new FaultyDevice(member(1 << 20), FaultMode.broken(EnumSet.of(FaultMode.Op.WRITE)));
        try (CrashingDevice a = new CrashingDevice(faulty, crash)) {
            crash.arm(1, true);

            assertThatThrownBy(() -> a.write(block(1), 0, false)).isInstanceOf(SimulatedCrash.class)
                    .satisfies(e -> assertThat(e.getSuppressed()).singleElement()
                            .isInstanceOf(IOException.class));
        }
    }

    @Test
    void shouldRefuseToArmForAZerothCall() {
        assertThatThrownBy(() -> new CrashSwitch().arm(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldFireExactlyOnceAndLetExactlyKMinusOneCallsThroughUnderConcurrentWriters() throws Exception {
        int threads = 8;
        int perThread = 50;
        long k = 137;
        CrashSwitch crash = new CrashSwitch();
        List<CrashingDevice> devices = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            devices.add(new CrashingDevice(member(1 << 20), crash));
        }
        crash.arm(k);
        AtomicInteger performed = new AtomicInteger();
        AtomicInteger crashed = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                CrashingDevice device = devices.get(t % devices.size());
                int slot = t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        try {
                            device.write(block(i), (long) slot * BLOCK, false);
                            performed.incrementAndGet();
                        } catch (SimulatedCrash e) {
                            crashed.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            for (CrashingDevice d : devices) {
                d.close();
            }
        }
        assertThat(performed.get()).isEqualTo(k - 1);
        assertThat(crashed.get()).isEqualTo(threads * perThread - (k - 1));
        assertThat(crash.modifyingCalls()).isEqualTo(k);
        assertThat(crash.firing().orElseThrow().call()).isEqualTo(k);
    }

    private BlockDevice member(long size) throws IOException {
        return FileMember.createSparse(dir.resolve("c" + created.incrementAndGet()), size);
    }

    /** One block filled with {@code value}. */
    private static ByteBuffer block(int value) {
        byte[] b = new byte[BLOCK];
        Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    private static byte[] contents(BlockDevice device, long offset) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(BLOCK);
        device.read(b, offset);
        return b.array();
    }
}
