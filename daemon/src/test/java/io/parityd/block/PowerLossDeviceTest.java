package io.parityd.block;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * {@link PowerLossDevice}: a faithful device while the power stays on (the contract), and after a
 * cut exactly what was made durable, or a torn mix that only ever shows states each page had.
 */
class PowerLossDeviceTest extends BlockDeviceContract {

    private static final int PAGE = PowerLossDevice.PAGE;

    @Override
    protected BlockDevice newDevice(long minSize) {
        return new PowerLossDevice("contract", (int) ((minSize + PAGE - 1) / PAGE * PAGE));
    }

    @Test
    void shouldShowUnsyncedWritesUntilAPowerLossDiscardsThem() {
        PowerLossDevice device = new PowerLossDevice("d", 16 * PAGE);
        device.write(filled(PAGE + 100, 7), 10, false);
        device.writeZeroes(0, 5, false, false);

        assertThat(read(device, 0, PAGE + 110)).isEqualTo(concat(new byte[10], filled(PAGE + 100, 7).array()));
        assertThat(device.unsyncedPages()).isEqualTo(2);
        assertThat(device.durableSnapshot(0, 2 * PAGE)).containsOnly(0);

        device.powerLoss();

        assertThat(read(device, 0, 16 * PAGE)).containsOnly(0);
        assertThat(device.unsyncedPages()).isZero();
    }

    @Test
    void shouldKeepWhatWasFlushedThroughAPowerLoss() {
        PowerLossDevice device = new PowerLossDevice("d", 16 * PAGE);
        device.write(filled(3 * PAGE, 1), PAGE, false);
        device.write(filled(100, 2), PAGE + 50, false);
        device.flush();
        device.write(filled(PAGE, 3), PAGE, false);

        device.powerLoss();

        byte[] expected = filled(3 * PAGE, 1).array();
        Arrays.fill(expected, 50, 150, (byte) 2);
        assertThat(read(device, PAGE, 3 * PAGE)).isEqualTo(expected);
    }

    @Test
    void shouldMakeAFuaWriteDurableAtOnceButNotTheUnsyncedWritesBesideIt() {
        PowerLossDevice device = new PowerLossDevice("d", 4 * PAGE);
        device.write(filled(100, 1), 0, false);
        device.write(filled(100, 2), 200, true);
        device.writeZeroes(PAGE, 100, false, true);
        device.write(filled(50, 3), 250, false); // newer than the FUA write, unsynced

        assertThat(read(device, 0, 300)).isEqualTo(concat(filled(100, 1).array(), new byte[100],
                filled(50, 2).array(), filled(50, 3).array()));

        device.powerLoss();

        assertThat(read(device, 0, 300)).isEqualTo(concat(new byte[200], filled(100, 2).array()));
    }

    @Test
    void shouldTearAWriteSpanningPagesPageByPageOnARandomPowerLoss() {
        int pages = 64;
        PowerLossDevice device = new PowerLossDevice("d", pages * PAGE);
        device.write(filled(pages * PAGE, 9), 0, false);

        device.powerLoss(new Random(42));

        int kept = 0;
        for (int p = 0; p < pages; p++) {
            byte[] page = read(device, p * PAGE, PAGE);
            assertThat(page).as("page %d is all old or all new", p).satisfiesAnyOf(
                    b -> assertThat(b).containsOnly(0), b -> assertThat(b).containsOnly(9));
            kept += page[0] == 9 ? 1 : 0;
        }
        assertThat(kept).as("a torn mix, not all or nothing").isBetween(1, pages - 1);
        assertThat(device.unsyncedPages()).isZero();
    }

    /** Two writes to the halves of one page: old, first only, or both; never the second alone. */
    @Test
    void shouldOnlyEverLeaveAPageInAStateItHad() {
        int pages = 256;
        PowerLossDevice device = new PowerLossDevice("d", pages * PAGE);
        for (int p = 0; p < pages; p++) {
            device.write(filled(PAGE / 2, 1), (long) p * PAGE, false);
        }
        for (int p = 0; p < pages; p++) {
            device.write(filled(PAGE / 2, 2), (long) p * PAGE + PAGE / 2, false);
        }

        device.powerLoss(new Random(7));

        Set<String> seen = new HashSet<>();
        for (int p = 0; p < pages; p++) {
            byte[] page = read(device, p * PAGE, PAGE);
            String state = page[0] + "/" + page[PAGE - 1];
            assertThat(state).as("page %d", p).isIn("0/0", "1/0", "1/2");
            assertThat(Arrays.copyOfRange(page, 0, PAGE / 2)).containsOnly(page[0]);
            assertThat(Arrays.copyOfRange(page, PAGE / 2, PAGE)).containsOnly(page[PAGE - 1]);
            seen.add(state);
        }
        assertThat(seen).as("every possible state occurs").containsExactlyInAnyOrder("0/0", "1/0", "1/2");
    }

    @Test
    void shouldRepeatARandomPowerLossForTheSameSeed() {
        byte[][] images = new byte[2][];
        for (int run = 0; run < 2; run++) {
            PowerLossDevice device = new PowerLossDevice("d", 32 * PAGE);
            Random writes = new Random(1);
            for (int i = 0; i < 40; i++) {
                device.write(filled(1 + writes.nextInt(3 * PAGE), i), writes.nextInt(28 * PAGE), false);
            }
            device.powerLoss(new Random(99));
            images[run] = read(device, 0, 32 * PAGE);
        }
        assertThat(images[1]).isEqualTo(images[0]);
    }

    @Test
    void shouldGoOnWorkingAfterAPowerLoss() {
        PowerLossDevice device = new PowerLossDevice("d", 4 * PAGE);
        device.write(filled(PAGE, 1), 0, false);
        device.powerLoss(new Random(3));
        device.write(filled(PAGE, 2), 0, false);
        device.flush();
        device.powerLoss();

        assertThat(read(device, 0, PAGE)).containsOnly(2);
    }

    @Test
    void shouldRefuseASizeThatIsNotWholePages() {
        assertThatThrownBy(() -> new PowerLossDevice("d", PAGE + 512)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("whole number of 4096-byte pages");
    }

    private static ByteBuffer filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    private static byte[] read(PowerLossDevice device, long offset, int length) {
        ByteBuffer b = ByteBuffer.allocate(length);
        device.read(b, offset);
        return b.array();
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] p : parts) {
            length += p.length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
