package io.parityd.raid;

import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * md's left-symmetric RAID-5 layout against tables worked out by hand from the md formula
 * (parity on {@code (n-1) - s mod n}, data chunk d on {@code (p + 1 + d) mod n}), never from the
 * code under test. Each row: stripe, parity member, then the member of data chunk 0, 1, ...
 */
class LayoutTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;

    private static final int[][] THREE = {
            // s, p, d0, d1
            {0, 2, 0, 1},
            {1, 1, 2, 0},
            {2, 0, 1, 2},
            {3, 2, 0, 1},
            {4, 1, 2, 0},
            {5, 0, 1, 2},
    };

    private static final int[][] FOUR = {
            // s, p, d0, d1, d2
            {0, 3, 0, 1, 2},
            {1, 2, 3, 0, 1},
            {2, 1, 2, 3, 0},
            {3, 0, 1, 2, 3},
            {4, 3, 0, 1, 2},
            {5, 2, 3, 0, 1},
            {6, 1, 2, 3, 0},
            {7, 0, 1, 2, 3},
    };

    private static final int[][] FIVE = {
            // s, p, d0, d1, d2, d3   (md's picture: row 1 is "D5 D6 D7 P D4")
            {0, 4, 0, 1, 2, 3},
            {1, 3, 4, 0, 1, 2},
            {2, 2, 3, 4, 0, 1},
            {3, 1, 2, 3, 4, 0},
            {4, 0, 1, 2, 3, 4},
            {5, 4, 0, 1, 2, 3},
            {6, 3, 4, 0, 1, 2},
            {7, 2, 3, 4, 0, 1},
            {8, 1, 2, 3, 4, 0},
            {9, 0, 1, 2, 3, 4},
    };

    @Test
    void shouldPlaceParityAndDataLeftSymmetricOnThreeMembers() {
        assertTable(layout(3, 64 * KIB, 0), THREE);
    }

    @Test
    void shouldPlaceParityAndDataLeftSymmetricOnFourMembers() {
        assertTable(layout(4, 64 * KIB, 0), FOUR);
    }

    @Test
    void shouldPlaceParityAndDataLeftSymmetricOnFiveMembers() {
        assertTable(layout(5, 64 * KIB, 0), FIVE);
    }

    @Test
    void shouldMapVolumeOffsetsToMemberOffsetsOnFourMembers() {
        // chunk 64 KiB = 65536, 3 data chunks: stripe = 196608 volume bytes; data offset 1 MiB.
        Layout layout = layout(4, 64 * KIB, MIB);
        long[][] cases = {
                // volume offset, member, member offset
                {0, 0, 1048576},                  // s0 d0
                {65536, 1, 1048576},              // s0 d1
                {131584, 2, 1049088},             // s0 d2 + 512
                {196607, 2, 1114111},             // last byte of s0
                {196608, 3, 1114112},             // s1 (p=2) d0 -> member 3, chunk row 1
                {266240, 0, 1118208},             // s1 d1 + 4096 -> member 0
                {1126400, 1, 1388544},            // s5 (p=2) d2 + 12288 -> member 1, row 5
        };
        for (long[] c : cases) {
            assertThat(layout.memberOf(c[0])).as("member of %d", c[0]).isEqualTo((int) c[1]);
            assertThat(layout.memberOffsetOf(c[0])).as("member offset of %d", c[0]).isEqualTo(c[2]);
        }
    }

    @Test
    void shouldMapVolumeOffsetsToMemberOffsetsOnFiveMembers() {
        // chunk 64 KiB, 4 data chunks: stripe = 262144 volume bytes; data offset 1 MiB.
        Layout layout = layout(5, 64 * KIB, MIB);
        long[][] cases = {
                {0, 0, 1048576},
                {262144 + 512, 4, 1114624},       // s1 (p=3) d0 -> member 4, row 1 + 512
                {2096640, 1, 1572352},            // s7 (p=2) d3 + 65024 -> member 1, row 7
                {5 * 262144 + 3 * 65536, 3, 1376256}, // s5 (p=4) d3 -> member 3, row 5
        };
        for (long[] c : cases) {
            assertThat(layout.memberOf(c[0])).as("member of %d", c[0]).isEqualTo((int) c[1]);
            assertThat(layout.memberOffsetOf(c[0])).as("member offset of %d", c[0]).isEqualTo(c[2]);
        }
    }

    @Test
    void shouldSplitVolumeOffsetIntoStripeIndexAndColumn() {
        Layout layout = layout(4, 64 * KIB, MIB);
        // 1126400 = 5 * 196608 + 2 * 65536 + 12288
        assertThat(layout.stripeOf(1126400)).isEqualTo(5);
        assertThat(layout.dataIndexOf(1126400)).isEqualTo(2);
        assertThat(layout.offsetInChunk(1126400)).isEqualTo(12288);
        assertThat(layout.volumeOffset(5, 2, 12288)).isEqualTo(1126400);
    }

    @Test
    void shouldInvertDataMemberWithDataIndexOnMember() {
        Layout layout = layout(5, 4 * KIB, 0);
        for (int[] row : FIVE) {
            assertThat(layout.dataIndexOnMember(row[0], row[1])).isEqualTo(-1);
            for (int d = 0; d < 4; d++) {
                assertThat(layout.dataIndexOnMember(row[0], row[2 + d])).isEqualTo(d);
            }
        }
    }

    @Test
    void shouldRefuseOtherLevelsForNow() {
        ArrayGeometry raid6 = new ArrayGeometry(UUID.randomUUID(), "v", 6, 64 * KIB, 4, 0, 64 * KIB);
        assertThatThrownBy(() -> new Layout(raid6)).isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertTable(Layout layout, int[][] table) {
        assertThat(table.length).isEqualTo(2 * layout.memberCount());
        for (int[] row : table) {
            long s = row[0];
            assertThat(layout.parityMember(s)).as("parity of stripe %d", s).isEqualTo(row[1]);
            for (int d = 0; d < layout.dataChunks(); d++) {
                assertThat(layout.dataMember(s, d)).as("data %d of stripe %d", d, s).isEqualTo(row[2 + d]);
            }
        }
    }

    private static Layout layout(int members, int chunk, long dataOffset) {
        return new Layout(new ArrayGeometry(UUID.randomUUID(), "v", 5, chunk, members, dataOffset, 16L * chunk));
    }
}
