package io.parityd.raid;

import io.parityd.block.BlockDevice;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A volume of any level over counted members, in memory or on files, for tests. Member {@code i}
 * is {@code counters.get(i)} over {@code media.get(i)} (memory members only). The plain factories
 * make RAID-5.
 */
final class TestArray implements AutoCloseable {

    final ArrayGeometry geometry;
    final List<MemoryDevice> media = new ArrayList<>();
    final List<CountingDevice> counters = new ArrayList<>();
    final RaidVolume volume;

    private TestArray(ArrayGeometry geometry, List<? extends BlockDevice> devices, StripeLocks locks) {
        this.geometry = geometry;
        for (BlockDevice d : devices) {
            counters.add(new CountingDevice(d));
        }
        this.volume = RaidVolumes.open(geometry, counters, java.util.Collections.nCopies(counters.size(),
                MemberState.ACTIVE), null, SlotListener.NONE, locks, RebuildTuning.DEFAULT);
    }

    static ArrayGeometry geometry(int members, int chunk, long dataOffset, long stripes) {
        return geometry(5, members, chunk, dataOffset, stripes);
    }

    static ArrayGeometry geometry(int level, int members, int chunk, long dataOffset, long stripes) {
        return new ArrayGeometry(UUID.randomUUID(), "test", level, chunk, members, dataOffset, stripes * chunk);
    }

    /** Members slightly larger than needed, so writes past the data area would be seen. */
    static TestArray inMemory(int members, int chunk, long dataOffset, long stripes) {
        return inMemory(5, members, chunk, dataOffset, stripes);
    }

    static TestArray inMemory(int level, int members, int chunk, long dataOffset, long stripes) {
        ArrayGeometry g = geometry(level, members, chunk, dataOffset, stripes);
        List<MemoryDevice> media = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            media.add(new MemoryDevice("m" + i, (int) (dataOffset + g.memberDataSize() + 4096)));
        }
        TestArray array = new TestArray(g, media, new StripeLocks());
        array.media.addAll(media);
        return array;
    }

    static TestArray onFiles(Path dir, int members, int chunk, long dataOffset, long stripes) throws IOException {
        return onFiles(dir, 5, members, chunk, dataOffset, stripes);
    }

    static TestArray onFiles(Path dir, int level, int members, int chunk, long dataOffset, long stripes)
            throws IOException {
        ArrayGeometry g = geometry(level, members, chunk, dataOffset, stripes);
        List<BlockDevice> files = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            files.add(new ChannelDevice(dir.resolve("m" + i + ".img"), dataOffset + g.memberDataSize() + 4096));
        }
        return new TestArray(g, files, new StripeLocks());
    }

    /** The striped engine behind {@link #volume}, for tests of its internals. */
    StripedVolume striped() {
        return (StripedVolume) volume;
    }

    CountingDevice member(int i) {
        return counters.get(i);
    }

    void resetCounters() {
        counters.forEach(CountingDevice::reset);
    }

    long reads() {
        return counters.stream().mapToLong(c -> c.reads.get()).sum();
    }

    long readBytes() {
        return counters.stream().mapToLong(c -> c.readBytes.get()).sum();
    }

    long writes() {
        return counters.stream().mapToLong(c -> c.writes.get()).sum();
    }

    ScrubReport scrub() throws IOException {
        return new ParityScrubber(volume).scrub(false, null);
    }

    @Override
    public void close() throws IOException {
        volume.close();
    }
}
