package io.parityd.raid;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Capacity and redundancy per level, worked out by hand for chunk 64 KiB and 100 chunks per member. */
class ArrayGeometryTest {

    private static final int CHUNK = 64 * 1024;

    @ParameterizedTest(name = "RAID-{0} on {1}: {2} data chunks, redundancy {3}")
    @CsvSource({
            // level, members, data chunks per stripe, redundancy, parity chunks
            "0, 2, 2, 0, 0",
            "0, 5, 5, 0, 0",
            "1, 2, 1, 1, 0",
            "1, 3, 1, 2, 0",
            "4, 3, 2, 1, 1",
            "5, 3, 2, 1, 1",
            "5, 5, 4, 1, 1",
            "6, 4, 2, 2, 2",
            "6, 6, 4, 2, 2"})
    void shouldSizeTheVolumeByLevel(int level, int members, int data, int redundancy, int parity) {
        ArrayGeometry g = geometry(level, members);
        assertThat(g.dataMembers()).isEqualTo(data);
        assertThat(g.redundancy()).isEqualTo(redundancy);
        assertThat(g.parityMembers()).isEqualTo(parity);
        assertThat(g.stripes()).isEqualTo(100);
        assertThat(g.stripeDataSize()).isEqualTo((long) data * CHUNK);
        assertThat(g.volumeSize()).isEqualTo(100L * data * CHUNK);
    }

    @ParameterizedTest(name = "RAID-{0} refuses {1} members")
    @CsvSource({"0, 1", "1, 1", "4, 2", "5, 2", "6, 3", "5, 65"})
    void shouldRefuseTooFewOrTooManyMembersForTheLevel(int level, int members) {
        assertThatThrownBy(() -> geometry(level, members))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("RAID-" + level + " needs")
                .hasMessageContaining("not " + members);
    }

    @ParameterizedTest(name = "level {0}")
    @CsvSource({"2", "3", "7", "10", "-1"})
    void shouldRefuseLevelsItDoesNotKnow(int level) {
        assertThatThrownBy(() -> geometry(level, 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("RAID level " + level + " is not one parityd knows");
    }

    private static ArrayGeometry geometry(int level, int members) {
        return new ArrayGeometry(UUID.randomUUID(), "g", level, CHUNK, members, 0, 100L * CHUNK);
    }
}
