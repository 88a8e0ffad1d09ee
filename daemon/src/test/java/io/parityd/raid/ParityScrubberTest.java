package io.parityd.raid;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Scrub on a 5-member array, chunk 4 KiB, data offset 8 KiB, 16 stripes. Parity of stripe s is
 * on member {@code 4 - s mod 5} (stripe 3: member 1; stripe 5: member 4, with D0 on member 0).
 */
class ParityScrubberTest {

    private static final int CHUNK = 4096;
    private static final long DATA_OFFSET = 8192;
    private static final long STRIPES = 16;

    private TestArray array;
    private byte[] data;

    @BeforeEach
    void fill() throws IOException {
        array = TestArray.inMemory(5, CHUNK, DATA_OFFSET, STRIPES);
        data = new byte[(int) array.volume.size()];
        new Random(42).nextBytes(data);
        array.volume.write(ByteBuffer.wrap(data.clone()), 0, false);
        array.resetCounters();
    }

    @AfterEach
    void close() throws IOException {
        array.close();
    }

    @Test
    void shouldFindNoMismatchOnAConsistentArray() throws IOException {
        ScrubReport report = new ParityScrubber(array.volume).scrub(false, null);
        assertThat(report).isEqualTo(new ScrubReport(STRIPES, 0, List.of(), 0));
        assertThat(report.clean()).isTrue();
        assertThat(array.writes()).isZero();
    }

    @Test
    void shouldDetectCorruptedParityAndRepairIt() throws IOException {
        corrupt(1, 3, 100);
        ParityScrubber scrubber = new ParityScrubber(array.volume);

        ScrubReport check = scrubber.scrub(false, null);
        assertThat(check).isEqualTo(new ScrubReport(STRIPES, 1, List.of(3L), 0));
        assertThat(array.writes()).as("check only reads").isZero();

        ScrubReport repair = scrubber.scrub(true, null);
        assertThat(repair).isEqualTo(new ScrubReport(STRIPES, 1, List.of(3L), 1));
        assertThat(array.member(1).writes.get()).isEqualTo(1);
        assertThat(array.member(1).flushes.get()).as("repair is made durable").isEqualTo(1);
        assertThat(array.member(0).flushes.get()).isZero();

        assertThat(scrubber.scrub(false, null).clean()).isTrue();
        assertVolumeReads(data);
    }

    @Test
    void shouldDetectCorruptedDataAndRewriteParityFromTheData() throws IOException {
        corrupt(0, 5, 7); // D0 of stripe 5
        ParityScrubber scrubber = new ParityScrubber(array.volume);
        assertThat(scrubber.scrub(false, null).firstMismatches()).containsExactly(5L);

        assertThat(scrubber.scrub(true, null).repaired()).isEqualTo(1);
        assertThat(scrubber.scrub(false, null).clean()).isTrue();
        // Like md's repair, parity follows the data: the corrupted byte is what reads back.
        byte[] expected = data.clone();
        expected[(int) (5 * array.geometry.stripeDataSize() + 7)] ^= (byte) 0xFF;
        assertVolumeReads(expected);
    }

    @Test
    void shouldCountEveryMismatchButListOnlyTheFirstAskedFor() throws IOException {
        for (int s : new int[] {2, 4, 9, 11, 15}) {
            corrupt(4 - s % 5, s, s);
        }
        ScrubReport report = new ParityScrubber(array.volume).scrub(0, STRIPES, false, 2, null);
        assertThat(report.mismatches()).isEqualTo(5);
        assertThat(report.firstMismatches()).containsExactly(2L, 4L);
    }

    @Test
    void shouldScrubOnlyTheGivenRange() throws IOException {
        corrupt(1, 3, 0);
        ParityScrubber scrubber = new ParityScrubber(array.volume);
        assertThat(scrubber.scrub(4, 10, false, 10, null)).isEqualTo(new ScrubReport(6, 0, List.of(), 0));
        assertThat(scrubber.scrub(3, 4, false, 10, null).mismatches()).isEqualTo(1);
    }

    @Test
    void shouldReportProgressAfterEveryStripe() throws IOException {
        List<long[]> calls = new ArrayList<>();
        new ParityScrubber(array.volume).scrub(false, (done, total) -> calls.add(new long[] {done, total}));
        assertThat(calls).hasSize((int) STRIPES);
        for (int i = 0; i < STRIPES; i++) {
            assertThat(calls.get(i)).containsExactly(i + 1, STRIPES);
        }
    }

    @Test
    void shouldStopWhenInterrupted() {
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> new ParityScrubber(array.volume).scrub(false, null))
                    .isInstanceOf(InterruptedIOException.class);
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void shouldRefuseBadRanges() {
        ParityScrubber scrubber = new ParityScrubber(array.volume);
        assertThatThrownBy(() -> scrubber.scrub(0, STRIPES + 1, false, 1, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> scrubber.scrub(5, 4, false, 1, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> scrubber.scrub(-1, 4, false, 1, null)).isInstanceOf(IllegalArgumentException.class);
    }

    /** Flips one byte of a member's chunk in row {@code stripe}, behind the volume's back. */
    private void corrupt(int member, long stripe, int column) {
        MemoryDevice m = array.media.get(member);
        int at = (int) (DATA_OFFSET + stripe * CHUNK + column);
        byte[] b = m.snapshot(at, 1);
        b[0] ^= (byte) 0xFF;
        m.poke(at, b);
    }

    private void assertVolumeReads(byte[] expected) throws IOException {
        ByteBuffer all = ByteBuffer.allocate(expected.length);
        array.volume.read(all, 0);
        assertThat(all.array()).isEqualTo(expected);
    }
}
