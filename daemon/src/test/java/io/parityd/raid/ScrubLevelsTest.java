package io.parityd.raid;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scrub beyond RAID-5: Q on RAID-6 (also with one slot down, when only one syndrome is left to
 * compare), copies on RAID-1, and stripes counted as unchecked when nothing is left to compare.
 * Chunk 4 KiB, data offset 8 KiB, 8 stripes; RAID-6 on 5 members: stripe 2 has P on m2, Q on m3.
 */
class ScrubLevelsTest {

    private static final int CHUNK = 4096;
    private static final int DATA_OFFSET = 8192;
    private static final long STRIPES = 8;

    @Test
    void shouldFindAndRepairCorruptedQ() throws IOException {
        try (TestArray array = filled(6, 5)) {
            corrupt(array, 3, 2, 100);
            ScrubReport check = array.volume.scrub(0, STRIPES, false, 10, null);
            assertThat(check).isEqualTo(new ScrubReport(STRIPES, 1, List.of(2L), 0, 0));
            ScrubReport repair = array.volume.scrub(0, STRIPES, true, 10, null);
            assertThat(repair.repaired()).isEqualTo(1);
            assertThat(array.member(3).writes.get()).isEqualTo(1);
            assertThat(array.member(3).flushes.get()).isEqualTo(1);
            assertThat(array.volume.scrub(0, STRIPES, false, 10, null).clean()).isTrue();
        }
    }

    @Test
    void shouldStillCheckQWithPLostAndPWithQLost() throws IOException {
        try (TestArray array = filled(6, 5)) {
            corrupt(array, 3, 2, 7); // Q of stripe 2
            array.volume.fail(2, new IOException("drill")); // P of stripe 2
            ScrubReport report = array.volume.scrub(0, STRIPES, false, 10, null);
            assertThat(report.unchecked()).isZero();
            assertThat(report.firstMismatches()).containsExactly(2L);
        }
        try (TestArray array = filled(6, 5)) {
            corrupt(array, 2, 2, 7); // P of stripe 2
            array.volume.fail(3, new IOException("drill")); // Q of stripe 2
            assertThat(array.volume.scrub(0, STRIPES, false, 10, null).firstMismatches()).containsExactly(2L);
        }
    }

    @Test
    void shouldCountStripesWithNothingLeftToCompareAsUnchecked() throws IOException {
        try (TestArray array = filled(5, 4)) {
            array.volume.fail(0, new IOException("drill"));
            assertThat(array.volume.scrub(0, STRIPES, false, 10, null))
                    .isEqualTo(new ScrubReport(0, 0, List.of(), 0, STRIPES));
        }
        try (TestArray array = filled(6, 5)) {
            array.volume.fail(0, new IOException("drill"));
            array.volume.fail(4, new IOException("drill"));
            assertThat(array.volume.scrub(0, STRIPES, false, 10, null).unchecked()).isEqualTo(STRIPES);
        }
    }

    @Test
    void shouldCompareMirrorCopiesAndRepairFromTheFirst() throws IOException {
        try (TestArray array = filled(1, 3)) {
            corrupt(array, 2, 5, 0);
            corrupt(array, 0, 6, 0);
            ScrubReport check = array.volume.scrub(0, STRIPES, false, 10, null);
            assertThat(check).isEqualTo(new ScrubReport(STRIPES, 2, List.of(5L, 6L), 0, 0));
            ScrubReport repair = array.volume.scrub(0, STRIPES, true, 10, null);
            assertThat(repair.repaired()).isEqualTo(2);
            assertThat(array.volume.scrub(0, STRIPES, false, 10, null).clean()).isTrue();
            // Repair trusts the first copy: stripe 6 now holds slot 0's corrupted byte everywhere.
            assertThat(array.media.get(1).snapshot(DATA_OFFSET + 6 * CHUNK, 1))
                    .isEqualTo(array.media.get(0).snapshot(DATA_OFFSET + 6 * CHUNK, 1));
            array.volume.fail(0, new IOException("drill"));
            array.volume.fail(1, new IOException("drill"));
            assertThat(array.volume.scrub(0, STRIPES, false, 10, null).unchecked()).isEqualTo(STRIPES);
        }
    }

    private static TestArray filled(int level, int members) throws IOException {
        TestArray array = TestArray.inMemory(level, members, CHUNK, DATA_OFFSET, STRIPES);
        byte[] data = new byte[(int) array.volume.size()];
        new Random(level * 10 + members).nextBytes(data);
        array.volume.write(ByteBuffer.wrap(data), 0, false);
        array.resetCounters();
        return array;
    }

    private static void corrupt(TestArray array, int member, long stripe, int column) {
        MemoryDevice m = array.media.get(member);
        int at = (int) (DATA_OFFSET + stripe * CHUNK + column);
        byte[] b = m.snapshot(at, 1);
        b[0] ^= (byte) 0xFF;
        m.poke(at, b);
    }
}
