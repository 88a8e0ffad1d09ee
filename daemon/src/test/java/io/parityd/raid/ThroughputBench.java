package io.parityd.raid;

import io.parityd.block.BlockDevice;
import io.parityd.member.FileMember;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Rough in-process figures, printed, never asserted (a timed assertion on a shared two-core
 * machine would only be flaky): healthy request throughput and heap allocated per request for
 * RAID-5 and RAID-6 over memory members, and rebuild speed against one member's raw sequential
 * write speed over files. Run with {@code -Dparityd.bench=true -Dtest=ThroughputBench}.
 */
@EnabledIfSystemProperty(named = "parityd.bench", matches = "true")
class ThroughputBench {

    private static final int CHUNK = 64 * 1024;

    @TempDir
    Path dir;

    @Test
    void healthyRequests() throws IOException {
        for (int level : new int[] {5, 6}) {
            ArrayGeometry g = TestArray.geometry(level, level == 5 ? 5 : 6, CHUNK, 4096, 1024);
            try (RaidVolume volume = RaidVolumes.open(g, ReconstructionTest.memories(g, g.memberCount()))) {
                for (int round = 0; round < 3; round++) {
                    report("RAID-" + level + " seq write 1 MiB", volume, 1 << 20, true, false, 400);
                    report("RAID-" + level + " seq read 1 MiB", volume, 1 << 20, false, false, 400);
                    report("RAID-" + level + " rand write 4 KiB", volume, 4096, true, true, 40_000);
                    report("RAID-" + level + " rand read 4 KiB", volume, 4096, false, true, 40_000);
                }
            }
        }
    }

    private static void report(String what, RaidVolume volume, int size, boolean write, boolean random, int count)
            throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(size);
        SplittableRandom r = new SplittableRandom(1);
        long slots = volume.size() / size;
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long allocated = threads.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            long offset = (random ? r.nextLong(slots) : i % slots) * size;
            buf.clear();
            if (write) {
                volume.write(buf, offset, false);
            } else {
                volume.read(buf, offset);
            }
        }
        long nanos = System.nanoTime() - start;
        allocated = threads.getCurrentThreadAllocatedBytes() - allocated;
        System.out.printf("%-28s %9.0f MB/s %9.0f ops/s %6d B allocated/request%n", what,
                (double) count * size / nanos * 1e3, count / (nanos / 1e9), allocated / count);
    }

    @Test
    void rebuildAgainstRawSequentialWrite() throws Exception {
        for (int level : new int[] {5, 6}) {
            int members = level == 5 ? 4 : 6;
            long stripes = 4096; // 256 MiB per member at 64 KiB
            ArrayGeometry g = TestArray.geometry(level, members, CHUNK, 4096, stripes);
            long memberSize = g.dataOffset() + g.memberDataSize();
            List<BlockDevice> files = new ArrayList<>();
            for (int i = 0; i < members; i++) {
                files.add(FileMember.createSparse(dir.resolve(level + "m" + i), memberSize));
            }
            double raw = rawWrite(dir.resolve(level + "raw"), memberSize);
            RecordingListener listener = new RecordingListener();
            try (RaidVolume volume = RaidVolumes.open(g, files, Collections.nCopies(members, MemberState.ACTIVE), null,
                    listener)) {
                byte[] chunk = new byte[1 << 20];
                new SplittableRandom(3).nextBytes(chunk);
                for (long at = 0; at < volume.size(); at += chunk.length) {
                    volume.write(ByteBuffer.wrap(chunk), at, false);
                }
                volume.flush();
                volume.fail(1, new IOException("bench"));
                BlockDevice fresh = FileMember.createSparse(dir.resolve(level + "new"), memberSize);
                long start = System.nanoTime();
                volume.rebuild(1, fresh, 0);
                listener.awaitFinished(1);
                double rebuild = g.memberDataSize() / ((System.nanoTime() - start) / 1e9) / 1e6;
                System.out.printf("RAID-%d n=%d rebuild %.0f MB/s, raw sequential write of one member %.0f MB/s:"
                        + " ratio %.2f%n", level, members, rebuild, raw, rebuild / raw);
            }
        }
    }

    /** One member's raw speed: sequential 2 MiB writes over the data area, then a flush. */
    private static double rawWrite(Path path, long size) throws IOException {
        try (FileMember member = FileMember.createSparse(path, size)) {
            ByteBuffer buf = StripeWriter.alignedDirect(2 << 20);
            long start = System.nanoTime();
            for (long at = 0; at + buf.capacity() <= size; at += buf.capacity()) {
                buf.clear();
                member.write(buf, at, false);
            }
            member.flush();
            return size / ((System.nanoTime() - start) / 1e9) / 1e6;
        }
    }
}
