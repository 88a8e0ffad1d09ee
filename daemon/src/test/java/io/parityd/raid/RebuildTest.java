package io.parityd.raid;

import io.parityd.block.BlockDevice;
import io.parityd.block.ForwardingDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Online rebuild: while several client threads write, and across a stop and a restart that
 * resumes from the position the listener persisted.
 */
class RebuildTest {

    private static final int CHUNK = 4096;
    private static final int SECTOR = 512;
    private static final int WRITERS = 4;

    @ParameterizedTest(name = "RAID-{0} on {1}, rebuilding slots {2}")
    @CsvSource({"5, 5, 2", "6, 6, 0+3", "1, 3, 1", "4, 4, 3"})
    void shouldRebuildWhileClientsWrite(int level, int members, String rebuilt) throws Exception {
        ArrayGeometry g = TestArray.geometry(level, members, CHUNK, 4096, 600);
        RecordingListener listener = new RecordingListener();
        int[] slots = Arrays.stream(rebuilt.split("\\+")).mapToInt(Integer::parseInt).toArray();
        try (RaidVolume volume = RaidVolumes.open(g, ReconstructionTest.memories(g, members),
                java.util.Collections.nCopies(members, MemberState.ACTIVE), null, listener, new StripeLocks(),
                new RebuildTuning(CHUNK, 0))) {
            byte[] model = new byte[(int) volume.size()];
            VolumeChecks.fill(volume, model, new Random(level));
            for (int slot : slots) {
                volume.fail(slot, new IOException("drill"));
            }
            AtomicLong writesDuringRebuild = new AtomicLong();
            // Each new device holds its first rebuild write until clients have written a while, so
            // the rebuild really runs under client writes however fast the machine is.
            CountDownLatch clientsWrote = new CountDownLatch(50);
            ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> writers = new ArrayList<>();
                for (int t = 0; t < WRITERS; t++) {
                    int thread = t;
                    writers.add(pool.submit(() -> {
                        start.await();
                        writeOwnRegion(volume, model, thread, slots, listener, writesDuringRebuild, clientsWrote);
                        return null;
                    }));
                }
                start.countDown();
                for (int slot : slots) {
                    volume.rebuild(slot, new GateDevice(ReconstructionTest.memory(g, "new" + slot), 1, clientsWrote), 0);
                }
                for (Future<?> f : writers) {
                    f.get(120, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            for (int slot : slots) {
                listener.awaitFinished(slot);
                assertThat(listener.progress.get(slot)).as("progress reports").isNotEmpty();
            }
            assertThat(writesDuringRebuild.get()).as("client writes that ran while the rebuild ran").isPositive();
            ScrubReport report = volume.scrub(0, g.stripes(), false, 10, null);
            assertThat(report.mismatches()).as("mismatches %s", report.firstMismatches()).isZero();
            assertThat(report.unchecked()).isZero();
            VolumeChecks.assertReads(volume, model, new Random(1), "after rebuild under writes");
            for (int slot : slots) {
                volume.fail(slot == 0 ? 1 : 0, new IOException("prove the rebuilt slot"));
                VolumeChecks.assertReads(volume, model, new Random(2), "rebuilt slot serving");
                break;
            }
        }
    }

    /** Random writes inside this thread's quarter of the volume, until every rebuild has ended. */
    private static void writeOwnRegion(RaidVolume volume, byte[] model, int thread, int[] slots,
                                       RecordingListener listener, AtomicLong duringRebuild, CountDownLatch wrote)
            throws IOException {
        int region = model.length / WRITERS / SECTOR * SECTOR;
        int base = thread * region;
        Random random = new Random(thread);
        int done = 0;
        while (done < 200 || !allEnded(listener, slots)) {
            int length = SECTOR * (1 + random.nextInt(24));
            int offset = base + SECTOR * random.nextInt((region - length) / SECTOR + 1);
            byte[] data = new byte[length];
            random.nextBytes(data);
            boolean running = !allEnded(listener, slots);
            volume.write(ByteBuffer.wrap(data), offset, false);
            System.arraycopy(data, 0, model, offset, length);
            wrote.countDown();
            if (running && !allEnded(listener, slots)) {
                duringRebuild.incrementAndGet();
            }
            done++;
        }
    }

    private static boolean allEnded(RecordingListener listener, int[] slots) {
        for (int slot : slots) {
            if (!listener.finished.containsKey(slot) && !listener.stoppedAt.containsKey(slot)) {
                return false;
            }
        }
        return true;
    }

    @Test
    void shouldResumeAStoppedRebuildFromThePersistedPosition() throws Exception {
        long stripes = 400;
        ArrayGeometry g = TestArray.geometry(5, 4, CHUNK, 4096, stripes);
        List<MemoryDevice> media = ReconstructionTest.memories(g, 4);
        MemoryDevice fresh = ReconstructionTest.memory(g, "new1");
        GateDevice gate = new GateDevice(fresh, 50, new CountDownLatch(1));
        RecordingListener first = new RecordingListener();
        RaidVolume volume = open(g, media, first, null);
        byte[] model = new byte[(int) volume.size()];
        VolumeChecks.fill(volume, model, new Random(3));
        volume.fail(1, new IOException("drill"));
        volume.rebuild(1, gate, 0);
        assertThat(gate.reached.await(30, TimeUnit.SECONDS)).isTrue();

        Thread closer = new Thread(() -> {
            try {
                volume.close();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        closer.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (closer.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        gate.open.countDown();
        closer.join(30_000);
        first.awaitEnded(1);
        assertThat(first.finished).isEmpty();
        long persisted = first.lastProgress(1);
        assertThat(persisted).isBetween(40L, stripes - 1);
        assertThat(first.stoppedAt.get(1)).isBetween(persisted, stripes - 1);

        CountingDevice counted = new CountingDevice(fresh);
        List<BlockDevice> devices = new ArrayList<>(media);
        devices.set(1, counted);
        RecordingListener second = new RecordingListener();
        long[] positions = new long[4];
        positions[1] = persisted;
        List<MemberState> states = List.of(MemberState.ACTIVE, MemberState.REBUILDING, MemberState.ACTIVE,
                MemberState.ACTIVE);
        try (RaidVolume reopened = open(g, devices, second, states, positions)) {
            second.awaitFinished(1);
            assertThat(counted.writeBytes.get()).as("only the stripes above the persisted position are rebuilt")
                    .isEqualTo((stripes - persisted) * CHUNK);
            assertThat(reopened.slots().get(1).state()).isEqualTo(MemberState.ACTIVE);
            assertThat(reopened.scrub(0, stripes, false, 10, null).mismatches()).isZero();
            reopened.fail(2, new IOException("prove slot 1"));
            VolumeChecks.assertReads(reopened, model, new Random(4), "resumed rebuild");
        }
    }

    private static RaidVolume open(ArrayGeometry g, List<? extends BlockDevice> devices, SlotListener listener,
                                   List<MemberState> states, long... positions) {
        List<MemberState> s = states != null ? states : java.util.Collections.nCopies(devices.size(), MemberState.ACTIVE);
        return RaidVolumes.open(g, devices, s, positions.length == 0 ? null : positions, listener, new StripeLocks(),
                new RebuildTuning(CHUNK, 0));
    }

    private static RaidVolume open(ArrayGeometry g, List<? extends BlockDevice> devices, SlotListener listener,
                                   List<MemberState> states) {
        return open(g, devices, listener, states, new long[0]);
    }

    /** Passes writes through, but holds the {@code n}-th one until {@link #open} is released. */
    private static final class GateDevice extends ForwardingDevice {
        private final int n;
        private final AtomicInteger writes = new AtomicInteger();
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch open;

        GateDevice(BlockDevice next, int n, CountDownLatch open) {
            super(next);
            this.n = n;
            this.open = open;
        }

        @Override
        public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
            if (writes.incrementAndGet() == n) {
                reached.countDown();
                try {
                    if (!open.await(30, TimeUnit.SECONDS)) {
                        throw new IOException("gate never opened");
                    }
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException();
                }
            }
            next.write(src, offset, fua);
        }

        @Override
        public String describe() {
            return "gate:" + next.describe();
        }

        @Override
        public void close() {
        }
    }
}
