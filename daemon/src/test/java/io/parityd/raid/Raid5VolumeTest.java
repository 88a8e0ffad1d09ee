package io.parityd.raid;

import io.parityd.raid.CountingDevice.Zeroing;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The RAID-5 volume's write paths, proven by counting what reaches each member, plus FUA,
 * zeroing, trim and argument checks. Chunk 4 KiB and a data offset of 8 KiB throughout; with
 * 5 members stripe 0 is {@code m0..m3 = D0..D3, m4 = P} and stripe 1 is
 * {@code m4 = D0, m0..m2 = D1..D3, m3 = P}.
 */
class Raid5VolumeTest {

    private static final int CHUNK = 4096;
    private static final long DATA_OFFSET = 8192;
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
        fill(5);
        long sd = array.geometry.stripeDataSize();
        write(sd, (int) sd, false);
        assertThat(array.reads()).isZero();
        for (CountingDevice m : array.counters) {
            assertThat(m.writes.get()).isEqualTo(1);
            assertThat(m.writeBytes.get()).isEqualTo(CHUNK);
        }
        assertConsistent();
    }

    @Test
    void shouldReadModifyWriteOneChunkOfFive() throws IOException {
        fill(5);
        write(CHUNK, CHUNK, false); // stripe 0, D1 on m1; P on m4
        assertThat(array.reads()).isEqualTo(2);
        assertThat(array.readBytes()).isEqualTo(2L * CHUNK);
        assertThat(array.member(1).reads.get()).isEqualTo(1);
        assertThat(array.member(4).reads.get()).isEqualTo(1);
        assertThat(array.writes()).isEqualTo(2);
        assertThat(array.member(1).writes.get()).isEqualTo(1);
        assertThat(array.member(4).writes.get()).isEqualTo(1);
        assertConsistent();
    }

    @Test
    void shouldReadModifyWriteOneSector() throws IOException {
        fill(5);
        write(CHUNK + 1024, 512, false);
        assertThat(array.reads()).isEqualTo(2);
        assertThat(array.readBytes()).isEqualTo(1024);
        assertConsistent();
    }

    @Test
    void shouldReconstructWriteThreeChunksOfFour() throws IOException {
        fill(5);
        write(0, 3 * CHUNK, false); // D0..D2 on m0..m2; only D3 on m3 is read
        assertThat(array.reads()).isEqualTo(1);
        assertThat(array.readBytes()).isEqualTo(CHUNK);
        assertThat(array.member(3).reads.get()).isEqualTo(1);
        assertThat(array.member(4).reads.get()).isZero();
        assertThat(array.writes()).isEqualTo(4);
        assertConsistent();
    }

    @Test
    void shouldPreferReconstructWriteOnTieAsMdDoes() throws IOException {
        fill(4);
        write(0, CHUNK, false); // 4 members: RMW reads D0+P, RCW reads D1+D2; tie -> RCW
        assertThat(array.reads()).isEqualTo(2);
        assertThat(array.member(0).reads.get()).isZero();
        assertThat(array.member(3).reads.get()).isZero();
        assertThat(array.member(1).reads.get()).isEqualTo(1);
        assertThat(array.member(2).reads.get()).isEqualTo(1);
        assertConsistent();
    }

    @Test
    void shouldUpdateOnlyTheTouchedColumnsOfAWriteAcrossAChunkBoundary() throws IOException {
        fill(5);
        // Last sector of D0 and first of D1: columns [0,512) and [3584,4096) each get a one-chunk
        // RMW; the columns between are untouched, so parity is written as two separate ranges.
        write(CHUNK - 512, 1024, false);
        assertThat(array.reads()).isEqualTo(4);
        assertThat(array.readBytes()).isEqualTo(4 * 512);
        assertThat(array.member(4).writes.get()).isEqualTo(2);
        assertThat(array.member(4).writeBytes.get()).isEqualTo(1024);
        assertConsistent();
    }

    @Test
    void shouldChooseRmwOrRcwPerColumnSegment() throws IOException {
        fill(5);
        // From D0 column 3072 to D2 column 1024. Columns [0,1024): D1,D2 written -> RCW reads
        // D0,D3. [1024,3072): only D1 -> RMW reads D1,P. [3072,4096): D0,D1 -> RCW reads D2,D3.
        write(3072, 2 * CHUNK + 1024 - 3072, false);
        assertThat(array.reads()).isEqualTo(6);
        assertThat(array.readBytes()).isEqualTo(2 * 1024 + 2 * 2048 + 2 * 1024);
        assertThat(array.member(4).reads.get()).isEqualTo(1);
        assertThat(array.member(4).readBytes.get()).isEqualTo(2048);
        assertThat(array.member(4).writes.get()).as("adjacent segments merge into one parity write").isEqualTo(1);
        assertThat(array.member(4).writeBytes.get()).isEqualTo(CHUNK);
        assertConsistent();
    }

    @Test
    void shouldWriteMultiStripeRequestsAcrossUnalignedBoundaries() throws IOException {
        fill(3);
        long sd = array.geometry.stripeDataSize();
        write(sd - 1536, (int) (3 * sd), false);
        write(512, (int) (5 * sd) - 1024, false);
        assertConsistent();
    }

    @Test
    void shouldFlushOnlyTouchedMembersOnFua() throws IOException {
        fill(5);
        write(CHUNK, CHUNK, true);
        long[] flushes = flushes();
        assertThat(flushes).containsExactly(0, 1, 0, 0, 1);
        assertThat(array.counters).allSatisfy(m -> assertThat(m.fuaWrites.get()).isZero());

        array.resetCounters();
        write(CHUNK, CHUNK, false);
        assertThat(flushes()).containsOnly(0);
    }

    @Test
    void shouldFlushEveryMemberOnFuaZeroingOfWholeStripes() throws IOException {
        fill(5);
        long sd = array.geometry.stripeDataSize();
        array.volume.writeZeroes(sd, 2 * sd, false, true);
        assertThat(flushes()).containsOnly(1);
    }

    @Test
    void shouldFlushEveryMemberAndReportFirstFailureWithOthersSuppressed() throws IOException {
        fill(5);
        IOException first = new IOException("m1 fdatasync failed");
        IOException second = new IOException("m3 fdatasync failed");
        array.member(1).failFlushWith(first);
        array.member(3).failFlushWith(second);
        assertThatThrownBy(() -> array.volume.flush()).isSameAs(first);
        assertThat(first.getSuppressed()).containsExactly(second);
        assertThat(flushes()).containsOnly(1);
    }

    @Test
    void shouldZeroContiguousWholeStripesWithOneCallPerMember() throws IOException {
        fill(5);
        long sd = array.geometry.stripeDataSize();
        array.volume.writeZeroes(2 * sd, 4 * sd, true, false);
        Arrays.fill(model, (int) (2 * sd), (int) (6 * sd), (byte) 0);
        assertThat(array.reads()).isZero();
        assertThat(array.writes()).isZero();
        for (CountingDevice m : array.counters) {
            assertThat(m.zeroings).containsExactly(new Zeroing(DATA_OFFSET + 2 * CHUNK, 4L * CHUNK, true));
        }
        assertConsistent();
    }

    @Test
    void shouldZeroPartialEndsThroughTheStripeWriter() throws IOException {
        fill(5);
        long sd = array.geometry.stripeDataSize();
        long from = sd + 512;
        long to = 6 * sd + CHUNK + 1024;
        array.volume.writeZeroes(from, to - from, false, false);
        Arrays.fill(model, (int) from, (int) to, (byte) 0);
        for (CountingDevice m : array.counters) {
            assertThat(m.zeroings).contains(new Zeroing(DATA_OFFSET + 2 * CHUNK, 4L * CHUNK, false));
        }
        assertThat(array.reads()).as("head and tail stripes need parity updates").isPositive();
        assertConsistent();
    }

    @Test
    void shouldZeroInsideOneStripe() throws IOException {
        fill(4);
        array.volume.writeZeroes(CHUNK + 512, CHUNK, false, false);
        Arrays.fill(model, CHUNK + 512, 2 * CHUNK + 512, (byte) 0);
        assertConsistent();
    }

    @Test
    void shouldTrimWholeStripesToZeroesAndLeavePartialStripesAlone() throws IOException {
        fill(5);
        long sd = array.geometry.stripeDataSize();
        array.volume.trim(sd + 512, 5 * sd, true);
        Arrays.fill(model, (int) (2 * sd), (int) (6 * sd), (byte) 0);
        for (CountingDevice m : array.counters) {
            assertThat(m.zeroings).containsExactly(new Zeroing(DATA_OFFSET + 2 * CHUNK, 4L * CHUNK, true));
            assertThat(m.trims.get()).as("member trim may leave old contents; never used").isZero();
            assertThat(m.flushes.get()).isEqualTo(1);
        }
        assertThat(array.reads() + array.writes()).isZero();
        assertConsistent();
    }

    @Test
    void shouldDoNothingForTrimSmallerThanAStripe() throws IOException {
        fill(5);
        array.volume.trim(512, array.geometry.stripeDataSize() - 1024, true);
        for (CountingDevice m : array.counters) {
            assertThat(m.zeroings).isEmpty();
            assertThat(m.flushes.get() + m.reads.get() + m.writes.get() + m.trims.get()).isZero();
        }
        assertConsistent();
    }

    @Test
    void shouldReportFastZeroesOnlyWhenEveryMemberIsFast() throws IOException {
        fill(5);
        long sd = array.geometry.stripeDataSize();
        assertThat(array.volume.zeroesFast(512, 3 * sd, false)).isTrue();
        array.media.get(2).setZeroesFast(false);
        assertThat(array.volume.zeroesFast(512, 3 * sd, false)).isFalse();
    }

    @Test
    void shouldReadIntoTheWindowOfACallersBufferAndConsumeIt() throws IOException {
        fill(5);
        ByteBuffer dst = ByteBuffer.allocate(20_000);
        Arrays.fill(dst.array(), (byte) 0x5A);
        dst.position(100).limit(100 + 3 * CHUNK);
        array.volume.read(dst, CHUNK + 512);
        assertThat(dst.position()).isEqualTo(dst.limit());
        assertThat(Arrays.copyOfRange(dst.array(), 100, 100 + 3 * CHUNK))
                .isEqualTo(Arrays.copyOfRange(model, CHUNK + 512, 4 * CHUNK + 512));
        assertThat(dst.array()[99]).isEqualTo((byte) 0x5A);
        assertThat(dst.array()[100 + 3 * CHUNK]).isEqualTo((byte) 0x5A);
    }

    @Test
    void shouldWriteFromReadOnlyBufferAtAPositionAndConsumeIt() throws IOException {
        fill(5);
        byte[] data = new byte[10_000];
        new Random(9).nextBytes(data);
        ByteBuffer src = ByteBuffer.wrap(data).asReadOnlyBuffer();
        src.position(200).limit(200 + 5 * 1024);
        array.volume.write(src, 7 * 1024, false);
        System.arraycopy(data, 200, model, 7 * 1024, 5 * 1024);
        assertThat(src.position()).isEqualTo(src.limit()).isEqualTo(200 + 5 * 1024);
        assertConsistent();
    }

    @Test
    void shouldRefuseMisalignedAndOutOfRangeRequests() throws IOException {
        fill(5);
        RaidVolume v = array.volume;
        long size = v.size();
        assertIllegal(() -> v.read(ByteBuffer.allocate(512), 100));
        assertIllegal(() -> v.read(ByteBuffer.allocate(100), 0));
        assertIllegal(() -> v.read(ByteBuffer.allocate(1024), size - 512));
        assertIllegal(() -> v.read(ByteBuffer.allocate(512), -512));
        assertIllegal(() -> v.write(ByteBuffer.allocate(512), 513, false));
        assertIllegal(() -> v.write(ByteBuffer.allocate(512), size, false));
        assertIllegal(() -> v.writeZeroes(0, 700, false, false));
        assertIllegal(() -> v.writeZeroes(size - 512, 1024, false, false));
        assertIllegal(() -> v.writeZeroes(512, Long.MAX_VALUE - 511, false, false));
        assertIllegal(() -> v.trim(10, 512, false));
        assertIllegal(() -> v.trim(0, size + 512, false));
        assertIllegal(() -> v.zeroesFast(0, 1, false));
        assertThat(array.reads() + array.writes()).isZero();
        assertConsistent();
    }

    @Test
    void shouldRefuseMembersThatDoNotFitTheGeometry() {
        ArrayGeometry g = TestArray.geometry(3, CHUNK, DATA_OFFSET, STRIPES);
        int enough = (int) (DATA_OFFSET + g.memberDataSize());
        List<MemoryDevice> two = List.of(new MemoryDevice("a", enough), new MemoryDevice("b", enough));
        assertIllegal(() -> RaidVolumes.open(g, two));
        List<MemoryDevice> small = List.of(new MemoryDevice("a", enough), new MemoryDevice("b", enough),
                new MemoryDevice("c", enough - 512));
        assertThatThrownBy(() -> RaidVolumes.open(g, small))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("memory:c");
    }

    @Test
    void shouldExposeSizeAndScratchCost() {
        array = TestArray.inMemory(5, CHUNK, DATA_OFFSET, STRIPES);
        assertThat(array.volume.size()).isEqualTo(STRIPES * 4 * CHUNK);
        assertThat(array.striped().scratchBytesPerThread()).isEqualTo(2L * (CHUNK + 4096));
        assertThat(array.volume.describe()).isEqualTo("raid5:test");
    }

    // --- helpers -------------------------------------------------------------------------------

    /** A fresh array of {@code members} filled with random data through full-stripe writes. */
    private void fill(int members) throws IOException {
        array = TestArray.inMemory(members, CHUNK, DATA_OFFSET, STRIPES);
        model = new byte[(int) array.volume.size()];
        new Random(members).nextBytes(model);
        array.volume.write(ByteBuffer.wrap(model.clone()), 0, false);
        array.resetCounters();
    }

    private void write(long offset, int length, boolean fua) throws IOException {
        byte[] data = new byte[length];
        new Random(offset * 31 + length).nextBytes(data);
        array.volume.write(ByteBuffer.wrap(data), offset, fua);
        System.arraycopy(data, 0, model, (int) offset, length);
    }

    private long[] flushes() {
        return array.counters.stream().mapToLong(c -> c.flushes.get()).toArray();
    }

    /** Reads back equal the model, and every row of chunks XORs to zero (parity is right). */
    private void assertConsistent() throws IOException {
        ByteBuffer all = ByteBuffer.allocate(model.length);
        array.volume.read(all, 0);
        assertThat(all.array()).isEqualTo(model);
        for (long s = 0; s < STRIPES; s++) {
            byte[] row = new byte[CHUNK];
            for (MemoryDevice m : array.media) {
                byte[] chunk = m.snapshot((int) (DATA_OFFSET + s * CHUNK), CHUNK);
                for (int i = 0; i < CHUNK; i++) {
                    row[i] ^= chunk[i];
                }
            }
            assertThat(row).as("XOR of row %d", s).containsOnly(0);
        }
    }

    private static void assertIllegal(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class);
    }
}
