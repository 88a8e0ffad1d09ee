package io.parityd.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parityd.block.BlockDevice;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journaled write path with a real journal and a recording device: the record is durable
 * before any member is touched, overlapping writes reach the volume in journal order, FLUSH and
 * close retire, a full journal delays instead of failing, and refusals change nothing.
 */
class JournaledControllerTest {

    private static final UUID ARRAY = UUID.fromString("6a1f0c2e-0000-4000-8000-000000000001");

    @TempDir
    Path dir;

    private final AtomicInteger syncs = new AtomicInteger();
    private final RecordingDevice device = new RecordingDevice();
    private Journal journal;
    private JournaledController controller;

    @AfterEach
    void tearDown() throws Exception {
        if (controller != null) {
            // Bounded: after a failed test requests may never finish, and close waits for them.
            Thread closer = new Thread(() -> {
                try {
                    controller.close();
                } catch (Exception e) {
                    // the journal is closed below
                }
            }, "test-close");
            closer.setDaemon(true);
            closer.start();
            closer.join(TimeUnit.SECONDS.toMillis(30));
            if (closer.isAlive()) {
                journal.close();
            }
        }
    }

    private void start(long capacity) throws Exception {
        journal = Journal.open(new JournalOptions(dir.resolve("j.nvram"), ARRAY, "t", null, capacity, false, false,
                file -> syncs.incrementAndGet()));
        controller = new JournaledController(device, journal, 4);
    }

    @Test
    void shouldMakeTheRecordDurableBeforeTheVolumeSeesTheWrite() throws Exception {
        start(8 << 20);
        device.onWrite = () -> {
            assertThat(journal.stats().records()).as("records when the member is written").isPositive();
            assertThat(syncs.get()).as("syncs before the member is written").isPositive();
        };
        controller.write(4096, filled(8192, 7), true).get(10, TimeUnit.SECONDS);
        controller.awaitIdle();
        assertThat(device.writes).containsExactly("write 4096+8192 fua=false");
        assertThat(device.assertionFailures).isEmpty();
        assertThat(device.byteAt(4096)).isEqualTo((byte) 7);
    }

    /**
     * One I/O thread, a degraded RAID-5, and many small writes in flight: each write to a degraded
     * stripe waits on its I/O thread for its preimage's sync, and that sync waits for every
     * record numbered before it to be written. If numbering and writing records ran on the I/O
     * threads, a record numbered but not yet written would sit queued behind the waiting thread,
     * and nothing would move again.
     */
    @Test
    void shouldNotDeadlockWhenEveryIoThreadWaitsForAPreimageSync() throws Exception {
        int chunk = 4096;
        int members = 4;
        int stripes = 64;
        io.parityd.raid.ArrayGeometry g = new io.parityd.raid.ArrayGeometry(ARRAY, "deg", 5, chunk, members, 0,
                (long) stripes * chunk);
        List<io.parityd.block.PowerLossDevice> raw = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            raw.add(new io.parityd.block.PowerLossDevice("m" + i, stripes * chunk));
        }
        io.parityd.raid.RaidVolume volume = Degraded.without(g, raw, 1);
        journal = Journal.open(new JournalOptions(dir.resolve("deg.nvram"), ARRAY, "deg", null, 8 << 20, false, false,
                JournalOptions.SyncHook.NONE));
        controller = new JournaledController(volume, journal, 1);
        // Chains of writes, each submitted when the one before is answered (once journaled), so new
        // requests keep arriving while earlier ones are being applied and wait for preimage syncs.
        List<CompletableFuture<Void>> chains = new ArrayList<>();
        for (int c = 0; c < 8; c++) {
            CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
            for (int i = 0; i < 64; i++) {
                int n = c * 64 + i;
                long offset = (long) (n * 7 % (stripes * 3)) * chunk + 512; // partial: a preimage where slot 1 holds data
                chain = chain.thenCompose(v -> controller.write(offset, filled(1024, n), false));
            }
            chains.add(chain);
        }
        CompletableFuture.allOf(chains.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        assertThat(controller.awaitIdle(60_000)).as("every write reached the volume").isTrue();
    }

    @Test
    void shouldKeepOverlappingWritesInJournalOrder() throws Exception {
        start(8 << 20);
        CountDownLatch release = new CountDownLatch(1);
        device.blockFirstWrite = release;
        CompletableFuture<Void> first = controller.write(0, filled(4096, 1), false);
        assertThat(device.blockedWriteReached.await(10, TimeUnit.SECONDS)).as("first write reaches the volume").isTrue();
        CompletableFuture<Void> second = controller.write(2048, filled(4096, 2), false);
        CompletableFuture<Void> disjoint = controller.write(65536, filled(4096, 3), false);
        disjoint.get(10, TimeUnit.SECONDS);
        assertThat(device.writes).as("the later overlapping write waits for the earlier one")
                .doesNotContain("write 2048+4096 fua=false");
        release.countDown();
        first.get(10, TimeUnit.SECONDS);
        second.get(10, TimeUnit.SECONDS);
        controller.awaitIdle(); // answered once journaled; the volume may follow a moment later
        assertThat(device.byteAt(2048)).as("the later write wins where they overlap").isEqualTo((byte) 2);
        assertThat(device.byteAt(0)).isEqualTo((byte) 1);
    }

    @Test
    void shouldMakeAcknowledgedWritesDurableAtFlushAndRetireThemInTheBackground() throws Exception {
        start(8 << 20);
        for (int i = 0; i < 8; i++) {
            controller.write(i * 4096L, filled(4096, i), false).get(10, TimeUnit.SECONDS);
        }
        controller.trim(0, 4096, false).get(10, TimeUnit.SECONDS);
        controller.writeZeroes(8192, 4096, false, false, false).get(10, TimeUnit.SECONDS);
        controller.flush().get(10, TimeUnit.SECONDS);
        assertThat(syncs.get()).as("the journal was synced for the flush").isPositive();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (journal.stats().records() > 0) { // the background retirer has no event to wait on: poll
            assertThat(System.nanoTime()).as("records retired within 10 s").isLessThan(deadline);
            Thread.sleep(10);
        }
        assertThat(device.flushes.get()).as("members synced before their records left").isPositive();
        assertThat(journal.stats().usedBytes()).isZero();
    }

    @Test
    void shouldAnswerOnceJournaledAndMakeReadsWaitForTheVolume() throws Exception {
        start(8 << 20);
        CountDownLatch release = new CountDownLatch(1);
        device.blockFirstWrite = release;
        controller.write(0, filled(4096, 5), false).get(10, TimeUnit.SECONDS);
        ByteBuffer got = ByteBuffer.allocate(4096);
        CompletableFuture<Void> read = controller.read(0, got);
        CompletableFuture<Void> elsewhere = controller.read(65536, ByteBuffer.allocate(4096));
        elsewhere.get(10, TimeUnit.SECONDS);
        assertThat(read).as("a read of a write not yet on the volume waits").isNotDone();
        release.countDown();
        read.get(10, TimeUnit.SECONDS);
        assertThat(got.get(0)).isEqualTo((byte) 5);
    }

    @Test
    void shouldAnswerFuaOnlyOnceTheRecordIsDurable() throws Exception {
        CountDownLatch syncMayFinish = new CountDownLatch(1);
        journal = Journal.open(new JournalOptions(dir.resolve("j.nvram"), ARRAY, "t", null, 8 << 20, false, false,
                file -> {
                    try {
                        syncMayFinish.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
        controller = new JournaledController(device, journal, 4);
        CompletableFuture<Void> plain = controller.write(0, filled(4096, 1), false);
        CompletableFuture<Void> fua = controller.write(8192, filled(4096, 2), true);
        plain.get(10, TimeUnit.SECONDS);
        CompletableFuture<Void> flush = controller.flush(); // covers the write answered before it
        assertThatThrownBy(() -> fua.get(100, TimeUnit.MILLISECONDS)).as("FUA before the sync completed")
                .isInstanceOf(java.util.concurrent.TimeoutException.class);
        assertThat(flush).as("FLUSH before the sync completed").isNotDone();
        assertThat(device.writes).as("no member written before the sync").isEmpty();
        syncMayFinish.countDown();
        fua.get(10, TimeUnit.SECONDS);
        flush.get(10, TimeUnit.SECONDS);
    }

    @Test
    void shouldCloseTheJournalCleanly() throws Exception {
        start(8 << 20);
        controller.write(0, filled(4096, 9), false).get(10, TimeUnit.SECONDS);
        controller.close();
        controller = null;
        UUID uuid = journal.uuid();
        try (Journal reopened = Journal.open(new JournalOptions(dir.resolve("j.nvram"), ARRAY, "t", uuid, 8 << 20,
                false, false, JournalOptions.SyncHook.NONE))) {
            assertThat(reopened.plan().openedClean()).isTrue();
            assertThat(reopened.plan().requests()).isEmpty();
        }
    }

    @Test
    void shouldRefuseRequestsAfterClose() throws Exception {
        start(8 << 20);
        controller.close();
        JournaledController closed = controller;
        controller = null;
        assertThatThrownBy(() -> closed.write(0, filled(512, 1), false).get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(RequestFailedException.class)
                .cause().extracting(e -> ((RequestFailedException) e).reason())
                .isEqualTo(RequestFailedException.Reason.SHUTTING_DOWN);
        assertThat(device.writes).isEmpty();
    }

    @Test
    void shouldDelayRatherThanFailWhenTheJournalIsFull() throws Exception {
        start(1 << 20);
        java.util.concurrent.atomic.AtomicBoolean sawWaiting = new java.util.concurrent.atomic.AtomicBoolean();
        journal.onSaturationChange(() -> {
            if (journal.saturated()) {
                sawWaiting.set(true);
            }
        });
        List<CompletableFuture<Void>> writes = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            writes.add(controller.write((long) i << 19, filled(512 << 10, i), false));
        }
        for (CompletableFuture<Void> w : writes) {
            w.get(30, TimeUnit.SECONDS);
        }
        assertThat(sawWaiting.get()).as("requests waited for room (6 MiB through a 1 MiB journal)").isTrue();
        controller.awaitIdle();
        for (int i = 0; i < 12; i++) {
            assertThat(device.byteAt((long) i << 19)).isEqualTo((byte) i);
        }
    }

    /**
     * A commands journal fills with records, not bytes: its records leave only once a member sync
     * has shown their writes on the members. With the members' sync held, 6,000 writes through a
     * journal of 4,096 records must wait for room (none fails), and all complete once the sync
     * comes.
     */
    @Test
    void shouldDelayRatherThanFailWhenACommandsJournalIsFullOfRecords() throws Exception {
        journal = Journal.open(new JournalOptions(dir.resolve("c.nvram"), ARRAY, "t", null, 1 << 20, false, false,
                file -> syncs.incrementAndGet(), io.parityd.nvram.JournalMode.COMMANDS));
        CountDownLatch syncHeld = new CountDownLatch(1);
        device.blockFlush = syncHeld;
        CommandController commands = new CommandController(device, journal, 4);
        java.util.concurrent.atomic.AtomicBoolean sawWaiting = new java.util.concurrent.atomic.AtomicBoolean();
        journal.onSaturationChange(() -> {
            if (journal.saturated()) {
                sawWaiting.set(true);
            }
        });
        try {
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < 6000; i++) {
                writes.add(commands.write((i % 2048) * 4096L, filled(4096, i), false));
            }
            CompletableFuture<Void> all = CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!sawWaiting.get() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(sawWaiting.get()).as("writes waited for room").isTrue();
            assertThat(all).as("6,000 writes done while the sync that frees records is held").isNotDone();
            assertThat(writes).as("no write failed while waiting").noneMatch(CompletableFuture::isCompletedExceptionally);

            syncHeld.countDown();
            all.get(30, TimeUnit.SECONDS);
            for (int b = 0; b < 2048; b++) {
                int last = b + 2048 * ((6000 - 1 - b) / 2048);
                assertThat(device.byteAt(b * 4096L)).as("block %d holds its last write", b).isEqualTo((byte) last);
            }
        } finally {
            syncHeld.countDown();
            commands.close();
        }
    }

    /**
     * A FLUSH's member sync covers every record answered before it; past 1,024 of them a commands
     * journal retires those at its next tick with no member sync of its own, instead of keeping
     * them (and a promotion's or recovery's work) for up to 30 s while writes go on.
     */
    @Test
    void shouldRetireWhatAFlushSyncedWithoutAnotherMemberSync() throws Exception {
        journal = Journal.open(new JournalOptions(dir.resolve("c.nvram"), ARRAY, "t", null, 8 << 20, false, false,
                file -> syncs.incrementAndGet(), io.parityd.nvram.JournalMode.COMMANDS));
        CommandController commands = new CommandController(device, journal, 4);
        try {
            List<CompletableFuture<Void>> writes = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                writes.add(commands.write((i % 2048) * 4096L, filled(4096, i), false));
            }
            CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            commands.flush().get(10, TimeUnit.SECONDS);
            int memberSyncs = device.flushes.get();
            // Writes go on (one every 20 ms), so neither the idle retire nor the 30 s one comes.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            int n = 0;
            while (journal.stats().records() >= 1000 && System.nanoTime() < deadline) {
                commands.write(4096L * (n++ % 64), filled(4096, n), false).get(10, TimeUnit.SECONDS);
                Thread.sleep(20);
            }
            assertThat(journal.stats().records()).as("records left after the flush, with writes going on").isLessThan(1000);
            assertThat(device.flushes.get()).as("member syncs since the FLUSH").isEqualTo(memberSyncs);
        } finally {
            commands.close();
        }
    }

    @Test
    void shouldRefuseASlowFastZeroWithoutJournalingIt() throws Exception {
        start(8 << 20);
        device.fastZero = false;
        assertThatThrownBy(() -> controller.writeZeroes(0, 4096, true, true, false).get(10, TimeUnit.SECONDS))
                .cause().isInstanceOf(RequestFailedException.class)
                .extracting(e -> ((RequestFailedException) e).reason()).isEqualTo(RequestFailedException.Reason.NOT_FAST);
        assertThat(journal.stats().appended()).isZero();
        assertThat(device.writes).isEmpty();
    }

    @Test
    void shouldReportAWriteTheVolumeFailedAfterItsReplyAtTheNextFlush() throws Exception {
        start(8 << 20);
        device.failWrites = new IOException("Input/output error");
        controller.write(0, filled(4096, 1), false).get(10, TimeUnit.SECONDS);
        controller.awaitIdle(); // the volume has failed it by now
        assertThatThrownBy(() -> controller.flush().get(10, TimeUnit.SECONDS))
                .cause().isInstanceOf(RequestFailedException.class)
                .extracting(e -> ((RequestFailedException) e).reason()).isEqualTo(RequestFailedException.Reason.IO_ERROR);
        device.failWrites = null;
        controller.write(4096, filled(4096, 2), false).get(10, TimeUnit.SECONDS);
        controller.flush().get(10, TimeUnit.SECONDS); // reported once, like errseq
        controller.awaitIdle();
        controller.retireNow();
        assertThat(journal.stats().records()).isZero();
    }

    private static ByteBuffer filled(int length, int value) {
        byte[] b = new byte[length];
        java.util.Arrays.fill(b, (byte) value);
        return ByteBuffer.wrap(b);
    }

    /** A byte-array device that records what reaches it. */
    private static final class RecordingDevice implements BlockDevice {
        final byte[] data = new byte[8 << 20];
        final List<String> writes = Collections.synchronizedList(new ArrayList<>());
        final List<Throwable> assertionFailures = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger flushes = new AtomicInteger();
        volatile Runnable onWrite = () -> { };
        volatile CountDownLatch blockFirstWrite;
        final CountDownLatch blockedWriteReached = new CountDownLatch(1);
        volatile IOException failWrites;
        volatile boolean fastZero = true;
        volatile CountDownLatch blockFlush;

        byte byteAt(long offset) {
            synchronized (data) {
                return data[(int) offset];
            }
        }

        @Override
        public String describe() {
            return "recording";
        }

        @Override
        public long size() {
            return data.length;
        }

        @Override
        public void read(ByteBuffer dst, long offset) {
            synchronized (data) {
                dst.put(data, (int) offset, dst.remaining());
            }
        }

        @Override
        public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
            try {
                onWrite.run();
            } catch (AssertionError e) {
                assertionFailures.add(e);
            }
            writes.add("write " + offset + "+" + src.remaining() + " fua=" + fua);
            CountDownLatch block = blockFirstWrite;
            if (block != null) {
                blockFirstWrite = null;
                blockedWriteReached.countDown();
                try {
                    block.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            if (failWrites != null) {
                throw failWrites;
            }
            synchronized (data) {
                src.get(data, (int) offset, src.remaining());
            }
        }

        @Override
        public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) {
            writes.add("zeroes " + offset + "+" + length);
            synchronized (data) {
                java.util.Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
            }
        }

        @Override
        public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
            return fastZero;
        }

        @Override
        public void trim(long offset, long length, boolean fua) {
            writes.add("trim " + offset + "+" + length);
        }

        @Override
        public void flush() throws IOException {
            CountDownLatch block = blockFlush;
            if (block != null) {
                try {
                    block.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            flushes.incrementAndGet();
        }

        @Override
        public void close() {
        }
    }
}
