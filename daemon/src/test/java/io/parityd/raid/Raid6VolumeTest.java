package io.parityd.raid;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RAID-6's write paths, proven by counting what reaches each member, healthy and degraded.
 * Chunk 4 KiB, data offset 8 KiB. Stripe 0 on 6 members: Q on m0, D0..D3 on m1..m4, P on m5; on
 * 8 members: Q on m0, D0..D5 on m1..m6, P on m7.
 */
class Raid6VolumeTest {

    private static final int CHUNK = 4096;
    private static final long STRIPES = 8;

    private TestArray array;
    private byte[] model;

    @AfterEach
    void closeArray() throws IOException {
        if (array != null) {
            array.close();
        }
    }

    @Test
    void shouldWriteFullStripeWithoutReading() throws IOException {
        fill(6);
        write(array.geometry.stripeDataSize(), (int) array.geometry.stripeDataSize());
        assertThat(array.reads()).isZero();
        for (CountingDevice m : array.counters) {
            assertThat(m.writes.get()).isEqualTo(1);
            assertThat(m.writeBytes.get()).isEqualTo(CHUNK);
        }
        assertConsistent();
    }

    @Test
    void shouldReadModifyWriteDataPAndQForOneChunkOfSix() throws IOException {
        fill(8);
        write(CHUNK, CHUNK); // D1 on m2: RMW reads D1, P, Q (3) beats RCW's 5
        assertThat(array.reads()).isEqualTo(3);
        assertThat(array.member(2).reads.get()).isEqualTo(1);
        assertThat(array.member(7).reads.get()).isEqualTo(1);
        assertThat(array.member(0).reads.get()).isEqualTo(1);
        assertThat(array.writes()).isEqualTo(3);
        assertThat(array.member(2).writes.get() + array.member(7).writes.get() + array.member(0).writes.get())
                .isEqualTo(3);
        assertConsistent();
    }

    @Test
    void shouldReconstructWriteFourChunksOfSix() throws IOException {
        fill(8);
        write(0, 4 * CHUNK); // D0..D3: RCW reads D4, D5 (m5, m6)
        assertThat(array.reads()).isEqualTo(2);
        assertThat(array.member(5).reads.get()).isEqualTo(1);
        assertThat(array.member(6).reads.get()).isEqualTo(1);
        assertThat(array.writes()).isEqualTo(6);
        assertConsistent();
    }

    @Test
    void shouldPreferReconstructWriteOnTie() throws IOException {
        fill(6);
        write(0, CHUNK); // 6 members: RMW reads D0+P+Q, RCW reads D1..D3: tie -> RCW
        assertThat(array.reads()).isEqualTo(3);
        assertThat(array.member(1).reads.get() + array.member(0).reads.get() + array.member(5).reads.get()).isZero();
        assertConsistent();
    }

    @Test
    void shouldUpdateOnlyQWhenPIsLost() throws IOException {
        fill(6);
        array.volume.fail(5, new IOException("drill"));
        array.resetCounters();
        write(CHUNK + 512, 512); // D1 on m2: Q alive only: RMW reads D1 + Q (2) beats RCW's 3
        assertThat(array.reads()).isEqualTo(2);
        assertThat(array.member(2).reads.get()).isEqualTo(1);
        assertThat(array.member(0).reads.get()).isEqualTo(1);
        assertThat(array.member(5).reads.get() + array.member(5).writes.get()).isZero();
        assertThat(array.writes()).isEqualTo(2);
        assertReadsBack();
    }

    @Test
    void shouldFoldALostWrittenChunkIntoPAndQ() throws IOException {
        fill(6);
        array.volume.fail(2, new IOException("drill"));
        array.resetCounters();
        write(CHUNK, CHUNK); // D1's member is lost: RCW from D0, D2, D3; writes P and Q only
        assertThat(array.reads()).isEqualTo(3);
        assertThat(array.member(2).reads.get() + array.member(2).writes.get()).isZero();
        assertThat(array.member(0).writes.get()).isEqualTo(1);
        assertThat(array.member(5).writes.get()).isEqualTo(1);
        assertThat(array.writes()).isEqualTo(2);
        assertReadsBack();
    }

    @Test
    void shouldReconstructFirstWhenAWrittenAndAnUnwrittenChunkAreLost() throws IOException {
        fill(6);
        array.volume.fail(2, new IOException("drill"));
        array.volume.fail(3, new IOException("drill"));
        array.resetCounters();
        write(CHUNK, CHUNK); // D1 (m2) written, D2 (m3) not: read D0, D3, P, Q; recover both; write P, Q
        assertThat(array.reads()).isEqualTo(4);
        assertThat(array.writes()).isEqualTo(2);
        assertThat(array.member(0).writes.get() + array.member(5).writes.get()).isEqualTo(2);
        assertReadsBack();
    }

    @Test
    void shouldZeroPartialStripesAndKeepPAndQ() throws IOException {
        fill(6);
        long sd = array.geometry.stripeDataSize();
        array.volume.writeZeroes(512, 3 * sd, false, false);
        java.util.Arrays.fill(model, 512, (int) (512 + 3 * sd), (byte) 0);
        assertConsistent();
    }

    private void fill(int members) throws IOException {
        array = TestArray.inMemory(6, members, CHUNK, 8192, STRIPES);
        model = new byte[(int) array.volume.size()];
        new Random(members).nextBytes(model);
        array.volume.write(ByteBuffer.wrap(model.clone()), 0, false);
        array.resetCounters();
    }

    private void write(long offset, int length) throws IOException {
        byte[] data = new byte[length];
        new Random(offset * 31 + length).nextBytes(data);
        array.volume.write(ByteBuffer.wrap(data), offset, false);
        System.arraycopy(data, 0, model, (int) offset, length);
    }

    private void assertReadsBack() throws IOException {
        ByteBuffer all = ByteBuffer.allocate(model.length);
        array.volume.read(all, 0);
        assertThat(all.array()).isEqualTo(model);
    }

    /** Reads back equal the model, and a scrub finds every P and Q right. */
    private void assertConsistent() throws IOException {
        assertReadsBack();
        ScrubReport report = array.volume.scrub(0, STRIPES, false, 10, null);
        assertThat(report.stripesChecked()).isEqualTo(STRIPES);
        assertThat(report.mismatches()).as("mismatches %s", report.firstMismatches()).isZero();
    }
}
