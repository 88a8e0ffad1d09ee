package io.parityd.block;

import io.parityd.block.FaultMode.Op;
import io.parityd.member.FileMember;
import io.parityd.member.NativeIoException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The fault layer: passes the whole device contract through while it fails nothing, and fails
 * exactly what its mode says (kind, range, rate with a seed, after a count), with EIO, without
 * touching the device below.
 */
class FaultyDeviceTest extends BlockDeviceContract {

    @TempDir
    Path dir;

    private final AtomicInteger created = new AtomicInteger();

    @Override
    protected BlockDevice newDevice(long minSize) throws IOException {
        return new FaultyDevice(FileMember.createSparse(dir.resolve("f" + created.incrementAndGet()), minSize));
    }

    @Test
    void shouldFailBrokenOpsWithEioAndLeaveTheDeviceBelowAlone() throws IOException {
        try (FaultyDevice device = (FaultyDevice) newDevice(1 << 20)) {
            device.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 100, false);
            device.setMode(FaultMode.broken(EnumSet.of(Op.WRITE)));
            assertThatThrownBy(() -> device.write(ByteBuffer.wrap(new byte[] {9, 9, 9}), 100, false))
                    .isInstanceOfSatisfying(NativeIoException.class, e -> {
                        assertThat(e.errno()).isEqualTo(5);
                        assertThat(e.call()).isEqualTo("pwrite");
                        assertThat(e.getMessage()).contains("injected");
                    });
            ByteBuffer back = ByteBuffer.allocate(3);
            device.read(back, 100);
            assertThat(back.array()).containsExactly(1, 2, 3);
            device.flush();
            device.writeZeroes(0, 512, false, false);
            assertThat(device.injected()).isEqualTo(1);
        }
    }

    @Test
    void shouldFailOnlyOperationsOverlappingTheRange() throws IOException {
        try (FaultyDevice device = (FaultyDevice) newDevice(1 << 20)) {
            device.setMode(FaultMode.range(EnumSet.of(Op.READ, Op.ZERO), 8192, 12288));
            device.read(ByteBuffer.allocate(4096), 4096);
            device.read(ByteBuffer.allocate(4096), 12288);
            assertThatThrownBy(() -> device.read(ByteBuffer.allocate(4096), 6144)).isInstanceOf(NativeIoException.class);
            assertThatThrownBy(() -> device.read(ByteBuffer.allocate(1), 12287)).isInstanceOf(NativeIoException.class);
            assertThatThrownBy(() -> device.writeZeroes(0, 1 << 20, true, false)).isInstanceOf(NativeIoException.class);
            assertThatThrownBy(() -> device.trim(10000, 10, false)).isInstanceOf(NativeIoException.class);
            device.write(ByteBuffer.allocate(4096), 8192, false);
        }
    }

    @Test
    void shouldFailTheSameOperationsForTheSameSeed() throws IOException {
        List<Integer> first = failingReads(7);
        assertThat(first).isEqualTo(failingReads(7));
        assertThat(first).isNotEqualTo(failingReads(8));
        // 1000 draws at 10%: far from none and far from all
        assertThat(first.size()).isBetween(50, 150);
    }

    @Test
    void shouldSucceedAfterCountedOperationsThenFail() throws IOException {
        try (FaultyDevice device = (FaultyDevice) newDevice(1 << 20)) {
            device.setMode(FaultMode.broken(Set.of(Op.FLUSH)).after(3));
            device.read(ByteBuffer.allocate(10), 0);
            device.flush();
            device.flush();
            device.flush();
            assertThatThrownBy(device::flush).isInstanceOfSatisfying(NativeIoException.class,
                    e -> assertThat(e.call()).isEqualTo("fdatasync"));
            assertThatThrownBy(() -> device.write(ByteBuffer.allocate(10), 0, true))
                    .as("FUA's durability step is a flush").isInstanceOf(NativeIoException.class);
            device.write(ByteBuffer.allocate(10), 0, false);
        }
    }

    @Test
    void shouldSwitchModesAtRunTime() throws IOException {
        try (FaultyDevice device = (FaultyDevice) newDevice(1 << 20)) {
            device.setMode(FaultMode.broken(EnumSet.allOf(Op.class)));
            assertThatThrownBy(() -> device.read(ByteBuffer.allocate(10), 0)).isInstanceOf(NativeIoException.class);
            device.setMode(FaultMode.NONE);
            device.read(ByteBuffer.allocate(10), 0);
            assertThat(device.mode()).isEqualTo(FaultMode.NONE);
        }
    }

    @Test
    void shouldRefuseNonsenseModes() {
        assertThatThrownBy(() -> FaultMode.rate(Set.of(Op.READ), 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FaultMode.rate(Set.of(Op.READ), 1.5, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FaultMode.range(Set.of(Op.READ), 10, 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FaultMode.broken(Set.of(Op.READ)).after(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    private List<Integer> failingReads(long seed) throws IOException {
        List<Integer> failed = new ArrayList<>();
        try (FaultyDevice device = (FaultyDevice) newDevice(1 << 20)) {
            device.setMode(FaultMode.rate(EnumSet.of(Op.READ), 0.1, seed));
            for (int i = 0; i < 1000; i++) {
                try {
                    device.read(ByteBuffer.allocate(8), i);
                } catch (NativeIoException e) {
                    failed.add(i);
                }
            }
        }
        return failed;
    }
}
