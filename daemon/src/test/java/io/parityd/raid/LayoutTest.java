package io.parityd.raid;

import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Layouts of every level against tables worked out by hand from md's formulas (RAID-5: parity on
 * {@code (n-1) - s mod n}, data chunk d on {@code (p + 1 + d) mod n}; RAID-6: Q after P and data
 * from {@code p + 2}), never from the code under test. Each row: stripe, parity member (and Q for
 * RAID-6), then the member of data chunk 0, 1, ...
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

    // RAID-6, md left-symmetric for level 6: p = (n-1) - s mod n, q = (p+1) mod n, d on (p+2+d) mod n.
    private static final int[][] SIX_ON_FOUR = {
            // s, p, q, d0, d1
            {0, 3, 0, 1, 2},
            {1, 2, 3, 0, 1},
            {2, 1, 2, 3, 0},
            {3, 0, 1, 2, 3},
            {4, 3, 0, 1, 2},
            {5, 2, 3, 0, 1},
            {6, 1, 2, 3, 0},
            {7, 0, 1, 2, 3},
    };

    private static final int[][] SIX_ON_FIVE = {
            // s, p, q, d0, d1, d2   (picture: row 0 "Q D0 D1 D2 P", row 2 "D7 D8 P Q D6")
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

    private static final int[][] SIX_ON_SIX = {
            // s, p, q, d0, d1, d2, d3
            {0, 5, 0, 1, 2, 3, 4},
            {1, 4, 5, 0, 1, 2, 3},
            {2, 3, 4, 5, 0, 1, 2},
            {3, 2, 3, 4, 5, 0, 1},
            {4, 1, 2, 3, 4, 5, 0},
            {5, 0, 1, 2, 3, 4, 5},
            {6, 5, 0, 1, 2, 3, 4},
            {7, 4, 5, 0, 1, 2, 3},
            {8, 3, 4, 5, 0, 1, 2},
            {9, 2, 3, 4, 5, 0, 1},
            {10, 1, 2, 3, 4, 5, 0},
            {11, 0, 1, 2, 3, 4, 5},
    };

    @Test
    void shouldPlacePAndQLeftSymmetricOnFourFiveAndSixMembers() {
        assertTable6(layout(6, 4, 64 * KIB, 0), SIX_ON_FOUR);
        assertTable6(layout(6, 5, 64 * KIB, 0), SIX_ON_FIVE);
        assertTable6(layout(6, 6, 64 * KIB, 0), SIX_ON_SIX);
    }

    @Test
    void shouldInvertRaid6MembersToDataIndexPAndQ() {
        Layout layout = layout(6, 5, 4 * KIB, 0);
        for (int[] row : SIX_ON_FIVE) {
            assertThat(layout.dataIndexOnMember(row[0], row[1])).isEqualTo(Layout.P);
            assertThat(layout.dataIndexOnMember(row[0], row[2])).isEqualTo(Layout.Q);
            assertThat(layout.roleOfMember(row[0], row[1])).isEqualTo(3);
            assertThat(layout.roleOfMember(row[0], row[2])).isEqualTo(4);
            for (int d = 0; d < 3; d++) {
                assertThat(layout.dataIndexOnMember(row[0], row[3 + d])).isEqualTo(d);
                assertThat(layout.memberOfRole(row[0], d)).isEqualTo(row[3 + d]);
            }
            assertThat(layout.memberOfRole(row[0], 3)).isEqualTo(row[1]);
            assertThat(layout.memberOfRole(row[0], 4)).isEqualTo(row[2]);
        }
    }

    @Test
    void shouldMapRaid6VolumeOffsetsOnFiveMembers() {
        // chunk 64 KiB, 3 data chunks: stripe = 196608 volume bytes; data offset 1 MiB.
        Layout layout = layout(6, 5, 64 * KIB, MIB);
        long[][] cases = {
                {0, 1, 1048576},                  // s0 (p=4, q=0) d0 -> member 1
                {196608 + 512, 0, 1114624},       // s1 (p=3, q=4) d0 -> member 0, row 1 + 512
                {575488, 1, 1230848},             // s2 (p=2, q=3) d2 + 51200 -> member 1, row 2
        };
        for (long[] c : cases) {
            assertThat(layout.memberOf(c[0])).as("member of %d", c[0]).isEqualTo((int) c[1]);
            assertThat(layout.memberOffsetOf(c[0])).as("member offset of %d", c[0]).isEqualTo(c[2]);
        }
    }

    @Test
    void shouldPinRaid4ParityToTheLastMember() {
        Layout layout = layout(4, 4, 4 * KIB, 0);
        for (long s = 0; s < 8; s++) {
            assertThat(layout.parityMember(s)).isEqualTo(3);
            assertThat(layout.qMember(s)).isEqualTo(-1);
            assertThat(new int[] {layout.dataMember(s, 0), layout.dataMember(s, 1), layout.dataMember(s, 2)})
                    .containsExactly(0, 1, 2);
            assertThat(layout.dataIndexOnMember(s, 3)).isEqualTo(Layout.P);
            assertThat(layout.dataIndexOnMember(s, 1)).isEqualTo(1);
        }
        // 65544 = 5 * 12288 + 4096 + 8: stripe 5, d1 -> member 1 at 5 * 4096 + 8
        assertThat(layout.memberOf(65544)).isEqualTo(1);
        assertThat(layout.memberOffsetOf(65544)).isEqualTo(20488);
    }

    @Test
    void shouldStripeRaid0AcrossEveryMemberWithoutParity() {
        Layout layout = layout(0, 3, 4 * KIB, 8192);
        assertThat(layout.dataChunks()).isEqualTo(3);
        assertThat(layout.parityChunks()).isZero();
        for (long s = 0; s < 6; s++) {
            assertThat(layout.parityMember(s)).isEqualTo(-1);
            assertThat(new int[] {layout.dataMember(s, 0), layout.dataMember(s, 1), layout.dataMember(s, 2)})
                    .containsExactly(0, 1, 2);
        }
        // 7 * 12288 + 2 * 4096 + 1000: stripe 7, d2 -> member 2 at 8192 + 7 * 4096 + 1000
        assertThat(layout.memberOf(95208)).isEqualTo(2);
        assertThat(layout.memberOffsetOf(95208)).isEqualTo(37864);
    }

    @Test
    void shouldMirrorRaid1AtTheSameOffsetOnEveryMember() {
        Layout layout = layout(1, 3, 4 * KIB, 8192);
        assertThat(layout.dataChunks()).isEqualTo(1);
        assertThat(layout.stripeDataSize()).isEqualTo(4096);
        // volume offset 49664 = 12 * 4096 + 512 is byte 8192 + 49664 = 57856 of every member
        assertThat(layout.stripeOf(49664)).isEqualTo(12);
        assertThat(layout.memberOffsetOf(49664)).isEqualTo(57856);
        for (int m = 0; m < 3; m++) {
            assertThat(layout.dataIndexOnMember(12, m)).isZero();
        }
    }

    private static void assertTable6(Layout layout, int[][] table) {
        assertThat(table.length).isEqualTo(2 * layout.memberCount());
        for (int[] row : table) {
            long s = row[0];
            assertThat(layout.parityMember(s)).as("P of stripe %d", s).isEqualTo(row[1]);
            assertThat(layout.qMember(s)).as("Q of stripe %d", s).isEqualTo(row[2]);
            for (int d = 0; d < layout.dataChunks(); d++) {
                assertThat(layout.dataMember(s, d)).as("data %d of stripe %d", d, s).isEqualTo(row[3 + d]);
            }
        }
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
        return layout(5, members, chunk, dataOffset);
    }

    private static Layout layout(int level, int members, int chunk, long dataOffset) {
        return new Layout(new ArrayGeometry(UUID.randomUUID(), "v", level, chunk, members, dataOffset, 16L * chunk));
    }
}
