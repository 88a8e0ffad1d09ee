package io.parityd.raid;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many threads writing overlapping ranges of a small volume (4 stripes, so almost every write
 * collides with others). Each write stamps every sector it covers with its id and the sector's
 * number.
 *
 * <p>The atomicity test runs in rounds: all threads are released at once, each does one write,
 * and then the volume is checked, so every write of the round still has sectors showing (one
 * long run would leave only the last layer to look at). Per round: parity must be right, every
 * sector must hold one whole stamp of a write that covered it, and the writes must be
 * explainable as applied one at a time: "sector owned by B but also covered by A" means A came
 * before B, and those orderings must have no cycle. Two multi-stripe writes interleaving stripe
 * by stripe produce one.
 */
class Raid5VolumeConcurrencyTest {

    private static final int CHUNK = 4096;
    private static final int SECTOR = 512;
    private static final int THREADS = 8;
    private static final int ROUNDS = 300;
    private static final int WRITES_PER_THREAD = 250;

    private record Write(int id, int firstSector, int sectors) {
        boolean covers(int sector) {
            return sector >= firstSector && sector < firstSector + sectors;
        }
    }

    @Test
    void shouldApplyOverlappingWritesAtomicallyAndKeepParity() throws Exception {
        try (TestArray array = TestArray.inMemory(5, CHUNK, 4096, 4)) {
            int sectors = (int) (array.volume.size() / SECTOR);
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                for (int round = 0; round < ROUNDS; round++) {
                    List<Write> writes = runRound(pool, array.volume, sectors, round);
                    assertThat(array.scrub().mismatches()).as("round %d", round).isZero();
                    long[] owners = readOwners(array.volume, sectors, writes);
                    assertAppliedOneAtATime(owners, writes, round);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** Releases one write per thread at the same instant; returns them when all are done. */
    private static List<Write> runRound(ExecutorService pool, RaidVolume volume, int sectors, int round)
            throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Write>> futures = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            Random random = new Random(round * 1000L + t);
            int id = round * 100 + t + 1;
            futures.add(pool.submit(() -> {
                start.await();
                return writeOne(volume, sectors, random, id);
            }));
        }
        start.countDown();
        List<Write> writes = new ArrayList<>();
        for (Future<Write> f : futures) {
            writes.add(f.get(60, TimeUnit.SECONDS));
        }
        return writes;
    }

    @Test
    void shouldScrubCleanWhileWritesRun() throws Exception {
        try (TestArray array = TestArray.inMemory(5, CHUNK, 4096, 4)) {
            int sectors = (int) (array.volume.size() / SECTOR);
            AtomicBoolean writing = new AtomicBoolean(true);
            ParityScrubber scrubber = new ParityScrubber(array.volume);
            ExecutorService scrubThread = Executors.newSingleThreadExecutor();
            try {
                Future<Long> scrubs = scrubThread.submit(() -> {
                    long passes = 0;
                    while (writing.get() || passes == 0) {
                        ScrubReport report = scrubber.scrub(false, null);
                        assertThat(report.mismatches()).as("scrub pass %d", passes).isZero();
                        passes++;
                    }
                    return passes;
                });
                runWriters(array.volume, sectors, writing);
                assertThat(scrubs.get(60, TimeUnit.SECONDS)).isPositive();
            } finally {
                scrubThread.shutdownNow();
            }
        }
    }

    /** Runs {@link #THREADS} writers, {@link #WRITES_PER_THREAD} each; clears {@code running} when done. */
    private static void runWriters(RaidVolume volume, int sectors, AtomicBoolean running) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Random random = new Random(t);
                int base = t * 100_000;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < WRITES_PER_THREAD; i++) {
                        writeOne(volume, sectors, random, base + i + 1);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            running.set(false);
            pool.shutdownNow();
        }
    }

    /** One write of 1 sector to 2 stripes, every sector stamped with {@code id} and its number. */
    private static Write writeOne(RaidVolume volume, int sectors, Random random, int id) throws IOException {
        int stripeSectors = (int) (volume.geometry().stripeDataSize() / SECTOR);
        int length = 1 + random.nextInt(2 * stripeSectors);
        int first = random.nextInt(sectors - length + 1);
        ByteBuffer buf = ByteBuffer.allocate(length * SECTOR);
        for (int s = 0; s < length; s++) {
            long stamp = stamp(id, first + s);
            for (int k = 0; k < SECTOR / 8; k++) {
                buf.putLong(stamp);
            }
        }
        buf.flip();
        volume.write(buf, (long) first * SECTOR, false);
        return new Write(id, first, length);
    }

    private static long stamp(int id, int sector) {
        return ((long) id << 32) | sector;
    }

    /**
     * The id of the write of {@code writes} owning each sector (0: none of them covers it, so it
     * holds an older round's data), checking that stamps are whole and belong there.
     */
    private static long[] readOwners(RaidVolume volume, int sectors, List<Write> writes) throws IOException {
        ByteBuffer all = ByteBuffer.allocate(sectors * SECTOR);
        volume.read(all, 0);
        long[] owners = new long[sectors];
        for (int s = 0; s < sectors; s++) {
            long first = all.getLong(s * SECTOR);
            for (int k = 1; k < SECTOR / 8; k++) {
                assertThat(all.getLong(s * SECTOR + 8 * k)).as("sector %d torn", s).isEqualTo(first);
            }
            int sector = s;
            if (writes.stream().noneMatch(w -> w.covers(sector))) {
                continue;
            }
            assertThat((int) first).as("sector %d holds another sector's data", s).isEqualTo(s);
            int id = (int) (first >>> 32);
            assertThat(writes).as("sector %d owned by write %d", s, id).anyMatch(w -> w.id() == id && w.covers(sector));
            owners[s] = id;
        }
        return owners;
    }

    /** Builds "A before B" edges from every sector and checks them for a cycle (Kahn). */
    private static void assertAppliedOneAtATime(long[] owners, List<Write> writes, int round) {
        Set<Long> edges = new HashSet<>();
        for (int s = 0; s < owners.length; s++) {
            for (Write w : writes) {
                if (owners[s] != 0 && w.id() != owners[s] && w.covers(s)) {
                    edges.add(((long) w.id() << 32) | owners[s]);
                }
            }
        }
        Map<Integer, List<Integer>> after = new HashMap<>();
        Map<Integer, Integer> incoming = new HashMap<>();
        for (Write w : writes) {
            after.put(w.id(), new ArrayList<>());
            incoming.put(w.id(), 0);
        }
        for (long e : edges) {
            int from = (int) (e >>> 32);
            int to = (int) e;
            after.get(from).add(to);
            incoming.merge(to, 1, Integer::sum);
        }
        ArrayDeque<Integer> ready = new ArrayDeque<>();
        incoming.forEach((id, n) -> {
            if (n == 0) {
                ready.add(id);
            }
        });
        int ordered = 0;
        while (!ready.isEmpty()) {
            int id = ready.poll();
            ordered++;
            for (int next : after.get(id)) {
                if (incoming.merge(next, -1, Integer::sum) == 0) {
                    ready.add(next);
                }
            }
        }
        assertThat(ordered).as("round %d: writes in a cycle of 'came before' (interleaved writes)", round).isEqualTo(writes.size());
    }
}
