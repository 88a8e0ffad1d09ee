package io.parityd.raid;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.block.BlockDevice;
import io.parityd.block.ForwardingDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The write-intent record behind {@code re-add}: what it marks while a slot is away, that the
 * marks are on the members before the data, and that a re-add resyncs exactly the marked regions
 * and leaves an array that survives the loss of any other member.
 */
class WriteIntentTest {

    private static final int CHUNK = 4096;
    private static final long DATA_OFFSET = 1L << 20;
    private static final long STRIPES = 256;

    private final ArrayGeometry g = TestArray.geometry(5, 4, CHUNK, DATA_OFFSET, STRIPES);
    private final AtomicLong generation = new AtomicLong(5);
    private final RecordingListener listener = new RecordingListener();

    @Test
    void shouldResyncOnlyTheRegionsWrittenWhileTheMemberWasAway() throws Exception {
        List<MemoryDevice> media = ReconstructionTest.memories(g, 4);
        List<Recorder> devices = new ArrayList<>();
        media.forEach(m -> devices.add(new Recorder(m)));
        try (RaidVolume volume = open(devices)) {
            WriteIntent intent = WriteIntent.load(g, devices, generation::get);
            volume.recordWritesWhileDegraded(intent);
            byte[] model = new byte[(int) volume.size()];
            VolumeChecks.fill(volume, model, new Random(1));
            assertThat(intent.recording()).as("a healthy array records nothing").isFalse();

            volume.fail(2, new IOException("drill"));
            generation.set(6); // the superblocks record the failure
            assertThat(intent.recording()).isTrue();
            Set<Long> touched = new TreeSet<>();
            Random random = new Random(2);
            long span = volume.size() / 5; // the first fifth of the volume only
            for (int i = 0; i < 1000; i++) {
                int length = 512 * (1 + random.nextInt(8));
                long offset = 512L * random.nextInt((int) ((span - length) / 512));
                byte[] data = new byte[length];
                random.nextBytes(data);
                volume.write(ByteBuffer.wrap(data), offset, false);
                System.arraycopy(data, 0, model, (int) offset, length);
                for (long s = offset / g.stripeDataSize(); s <= (offset + length - 1) / g.stripeDataSize(); s++) {
                    touched.add(s);
                }
            }
            assertThat(intent.regionStripes()).isOne();
            assertThat(intent.marked()).as("one region per stripe written").isEqualTo(touched.size());

            WriteIntent reloaded = WriteIntent.load(g, List.of(media.get(0), media.get(1), media.get(3)), generation::get);
            assertThat(reloaded.marked()).as("the marks are on the members").isEqualTo(touched.size());
            assertThat(reloaded.covers(5)).as("slot 2 last took part at generation 5").isTrue();
            assertThat(reloaded.covers(4)).as("a member that left before recording began").isFalse();

            Recorder back = devices.get(2);
            back.writes.clear();
            volume.reAdd(2, back);
            listener.awaitFinished(2);
            assertThat(back.writes.stream().filter(o -> o >= DATA_OFFSET).count())
                    .as("stripes rebuilt onto the member that came back").isEqualTo(touched.size());
            // The rebuild thread clears the record just after it reports the end.
            for (long deadline = System.nanoTime() + 10_000_000_000L; intent.recording() && System.nanoTime() < deadline; ) {
                Thread.sleep(5);
            }
            assertThat(intent.recording()).as("every slot active: nothing is away").isFalse();
            assertThat(intent.marked()).isZero();
            assertThat(WriteIntent.load(g, devices, generation::get).covers(5)).as("cleared on the members").isFalse();

            for (int lost : new int[] {0, 1, 3}) {
                volume.fail(lost, new IOException("drill"));
                VolumeChecks.assertReads(volume, model, new Random(lost), "re-added slot 2 without slot " + lost);
                // Back in full, so the next loss starts from a whole array.
                volume.rebuild(lost, media.get(lost), 0);
                listener.awaitFinished(lost);
            }
        }
    }

    @Test
    void shouldReAddWhileClientsWriteEverywhere() throws Exception {
        List<MemoryDevice> media = ReconstructionTest.memories(g, 4);
        try (RaidVolume volume = open(media)) {
            volume.recordWritesWhileDegraded(WriteIntent.load(g, media, generation::get));
            byte[] model = new byte[(int) volume.size()];
            VolumeChecks.fill(volume, model, new Random(3));
            volume.fail(1, new IOException("drill"));
            VolumeChecks.randomWrites(volume, model, new Random(4), 200);

            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<?>> writers = new ArrayList<>();
                int share = (int) (volume.size() / 4);
                for (int t = 0; t < 4; t++) {
                    int from = t * share;
                    Random random = new Random(10 + t);
                    writers.add(pool.submit(() -> {
                        for (int i = 0; i < 400; i++) { // each thread its own quarter, so the model stays exact
                            int length = 512 * (1 + random.nextInt(16));
                            int offset = from + 512 * random.nextInt((share - length) / 512);
                            byte[] data = new byte[length];
                            random.nextBytes(data);
                            volume.write(ByteBuffer.wrap(data), offset, false);
                            System.arraycopy(data, 0, model, offset, length);
                        }
                        return null;
                    }));
                }
                volume.reAdd(1, media.get(1));
                for (java.util.concurrent.Future<?> f : writers) {
                    f.get(120, java.util.concurrent.TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            listener.awaitFinished(1);
            assertThat(volume.scrub(0, g.stripes(), false, 10, null).mismatches()).as("parity after the re-add").isZero();
            volume.fail(2, new IOException("drill"));
            VolumeChecks.assertReads(volume, model, new Random(5), "the re-added slot 1 without slot 2");
        }
    }

    @Test
    void shouldMarkAWriteInFlightWhenItsMemberFails() throws Exception {
        List<MemoryDevice> media = ReconstructionTest.memories(g, 4);
        List<BlockDevice> devices = new ArrayList<>(media);
        FailingWrites failing = new FailingWrites(media.get(1));
        devices.set(1, failing);
        try (RaidVolume volume = open(devices)) {
            WriteIntent intent = WriteIntent.load(g, devices, generation::get);
            volume.recordWritesWhileDegraded(intent);
            failing.failing = true;
            long stripe = 17;
            // A whole stripe touches every member: slot 1 fails during the write.
            volume.write(ByteBuffer.wrap(new byte[(int) g.stripeDataSize()]), stripe * g.stripeDataSize(), false);

            assertThat(intent.recording()).isTrue();
            assertThat(intent.marked(stripe, stripe + 1)).as("the write that was under way when slot 1 failed").isTrue();
            assertThat(intent.marked()).isOne();
        }
    }

    @Test
    void shouldPutTheMarkOnTheMembersBeforeTheData() throws Exception {
        List<MemoryDevice> media = ReconstructionTest.memories(g, 4);
        List<Recorder> devices = new ArrayList<>();
        media.forEach(m -> devices.add(new Recorder(m)));
        try (RaidVolume volume = open(devices)) {
            WriteIntent intent = WriteIntent.load(g, devices, generation::get);
            volume.recordWritesWhileDegraded(intent);
            volume.fail(3, new IOException("drill"));
            devices.forEach(d -> d.writes.clear());

            volume.write(ByteBuffer.wrap(new byte[512]), 40 * g.stripeDataSize(), false);
            volume.write(ByteBuffer.wrap(new byte[512]), 40 * g.stripeDataSize() + 512, false);

            for (int slot = 0; slot < 3; slot++) {
                List<Long> writes = devices.get(slot).writes;
                assertThat(writes).as("slot %d", slot).isNotEmpty();
                assertThat(writes.get(0)).as("slot %d: the mark first", slot).isEqualTo(WriteIntent.OFFSET);
                assertThat(writes.stream().filter(o -> o == WriteIntent.OFFSET).count())
                        .as("slot %d: a second write to a marked region costs no mark", slot).isOne();
            }
        }
    }

    @Test
    void shouldFailAMemberThatCannotTakeTheMarkAndGoOn() throws Exception {
        ArrayGeometry r6 = TestArray.geometry(6, 5, CHUNK, DATA_OFFSET, STRIPES);
        List<MemoryDevice> media = ReconstructionTest.memories(r6, 5);
        List<BlockDevice> devices = new ArrayList<>(media);
        MarkRefused refusing = new MarkRefused(media.get(0));
        devices.set(0, refusing);
        try (RaidVolume volume = RaidVolumes.open(r6, devices, Collections.nCopies(5, MemberState.ACTIVE), null,
                listener, new StripeLocks(), new RebuildTuning(CHUNK, 0))) {
            WriteIntent intent = WriteIntent.load(r6, devices, generation::get);
            volume.recordWritesWhileDegraded(intent);
            volume.fail(4, new IOException("drill"));
            refusing.refusing = true;
            byte[] data = new byte[4096];
            new Random(6).nextBytes(data);

            volume.write(ByteBuffer.wrap(data), 9 * r6.stripeDataSize(), false);

            assertThat(volume.slots().get(0).state()).as("slot 0 could not take the mark").isEqualTo(MemberState.FAULTY);
            assertThat(intent.marked(9, 10)).as("the others took it").isTrue();
            ByteBuffer back = ByteBuffer.allocate(4096);
            volume.read(back, 9 * r6.stripeDataSize());
            assertThat(back.array()).isEqualTo(data);
        }
    }

    /** Refuses writes of the write-intent record, once told to. */
    private static final class MarkRefused extends ForwardingDevice {
        volatile boolean refusing;

        MarkRefused(BlockDevice next) {
            super(next);
        }

        @Override
        public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
            if (refusing && offset == WriteIntent.OFFSET) {
                throw new IOException("pwrite: Input/output error");
            }
            next.write(src, offset, fua);
        }
    }

    @Test
    void shouldNotTrustATornRecord() throws Exception {
        List<MemoryDevice> media = ReconstructionTest.memories(g, 4);
        try (RaidVolume volume = open(media)) {
            WriteIntent intent = WriteIntent.load(g, media, generation::get);
            volume.recordWritesWhileDegraded(intent);
            volume.fail(0, new IOException("drill"));
            volume.write(ByteBuffer.wrap(new byte[512]), 0, false);
        }
        for (MemoryDevice m : media.subList(1, 4)) {
            m.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), WriteIntent.OFFSET + 100, true);
        }
        WriteIntent torn = WriteIntent.load(g, media.subList(1, 4), generation::get);
        assertThat(torn.recording()).isFalse();
        assertThat(torn.covers(5)).as("a re-add then rebuilds in full").isFalse();
    }

    private RaidVolume open(List<? extends BlockDevice> devices) {
        return RaidVolumes.open(g, devices, Collections.nCopies(devices.size(), MemberState.ACTIVE), null, listener,
                new StripeLocks(), new RebuildTuning(CHUNK, 0));
    }

    /** Records the offset of every write that reaches the device. */
    private static final class Recorder extends ForwardingDevice {
        final List<Long> writes = new CopyOnWriteArrayList<>();

        Recorder(BlockDevice next) {
            super(next);
        }

        @Override
        public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
            writes.add(offset);
            next.write(src, offset, fua);
        }
    }

    /** Fails every data write once told to. */
    private static final class FailingWrites extends ForwardingDevice {
        volatile boolean failing;

        FailingWrites(BlockDevice next) {
            super(next);
        }

        @Override
        public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
            if (failing) {
                throw new IOException("pwrite: Input/output error");
            }
            next.write(src, offset, fua);
        }
    }
}
