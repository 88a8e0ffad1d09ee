package io.parityd.nvram;

import static io.parityd.nvram.Fixture.bytes;
import static io.parityd.nvram.Fixture.trim;
import static io.parityd.nvram.Fixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The life of a request through the journal: append, durability, apply, retire, room, failure. */
class JournalTest {

    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void shouldReturnEveryPendingRequestAfterACrash() throws Exception {
        Fixture f = Fixture.in(dir);
        byte[] data = bytes(5 * MIB / 2, 1);
        ByteBuffer buffer = ByteBuffer.wrap(data);
        Ticket w;
        Ticket t;
        Ticket z;
        java.util.UUID uuid;
        try (Journal j = f.open()) {
            uuid = j.uuid();
            assertThat(j.plan().requests()).isEmpty();
            j.reserve(data.length).get();
            w = j.begin(data.length);
            j.append(w, RecordKind.WRITE, 4096, data.length, WriteFlags.FUA, 0, buffer);
            assertThat(buffer.position()).isZero();
            t = trim(j, MIB, 65536);
            j.reserve(0).get();
            z = j.begin(0);
            j.append(z, RecordKind.WRITE_ZEROES, 2L * MIB, 8192, WriteFlags.MAY_DEALLOCATE, 0, null);
            j.whenDurable(z.lastSeq()).get(30, TimeUnit.SECONDS);
        }
        assertThat(w.pieces()).isEqualTo(3);
        try (Journal j = f.expected(uuid).open()) {
            RecoveryPlan plan = j.plan();
            assertThat(plan.openedClean()).isFalse();
            assertThat(plan.droppedRecords()).isZero();
            assertThat(plan.requests()).containsExactly(
                    new PendingRequest(1, 3, RecordKind.WRITE, 4096, data.length, WriteFlags.FUA, 0),
                    new PendingRequest(4, 4, RecordKind.TRIM, MIB, 65536, 0, 0),
                    new PendingRequest(5, 5, RecordKind.WRITE_ZEROES, 2L * MIB, 8192, WriteFlags.MAY_DEALLOCATE, 0));
            assertThat(plan.nextSeq()).isEqualTo(6);
            assertThat(plan.lastSeq()).isEqualTo(z.lastSeq());
            ByteBuffer read = j.readData(plan.requests().get(0));
            assertThat(read.isReadOnly()).isTrue();
            byte[] back = new byte[read.remaining()];
            read.get(back);
            assertThat(back).isEqualTo(data);
            assertThat(j.readData(plan.requests().get(1)).remaining()).isZero();
            assertThat(j.stats().records()).isEqualTo(5);
            assertThat(j.stats().usedBytes()).isEqualTo(data.length);
            Ticket next = write(j, 0, bytes(100, 2));
            assertThat(next.firstSeq()).isEqualTo(6);
        }
    }

    @Test
    void shouldCompleteWhenDurableOnlyAfterASync() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger syncs = new AtomicInteger();
        Fixture f = Fixture.in(dir).hook(file -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            syncs.incrementAndGet();
        });
        try (Journal j = f.open()) {
            Ticket t = j.begin(4096);
            CompletableFuture<Void> durable = j.whenDurable(t.lastSeq());
            j.append(t, RecordKind.WRITE, 0, 4096, 0, 0, ByteBuffer.wrap(bytes(4096, 3)));
            assertThat(durable).isNotDone();
            AtomicInteger seenAtCompletion = new AtomicInteger(-1);
            CompletableFuture<Void> seen = durable.thenRun(() -> seenAtCompletion.set(syncs.get()));
            release.countDown();
            seen.get(30, TimeUnit.SECONDS);
            assertThat(seenAtCompletion.get()).isGreaterThanOrEqualTo(1);
            assertThat(j.stats().syncs()).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void shouldHoldDurabilityBackUntilEveryEarlierRequestIsAppended() throws Exception {
        try (Journal j = Fixture.in(dir).open()) {
            Ticket first = j.begin(0);
            Ticket second = j.begin(0);
            j.append(second, RecordKind.TRIM, 0, 4096, 0, 0, null);
            CompletableFuture<Void> durable = j.whenDurable(second.lastSeq());
            Ticket third = write(j, 0, bytes(10, 1));
            assertThat(durable).isNotDone();
            assertThat(j.whenDurable(third.lastSeq())).isNotDone();
            j.append(first, RecordKind.TRIM, 0, 4096, 0, 0, null);
            durable.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldSyncOncePerBatchOfConcurrentAppends() throws Exception {
        AtomicInteger syncs = new AtomicInteger();
        int threads = 64;
        try (Journal j = Fixture.in(dir).hook(file -> syncs.incrementAndGet()).open()) {
            CountDownLatch start = new CountDownLatch(1);
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            List<Thread> workers = new java.util.ArrayList<>();
            for (int i = 0; i < threads; i++) {
                byte[] data = bytes(4096, i);
                Thread th = new Thread(() -> {
                    try {
                        start.await();
                        Ticket t = write(j, 0, data);
                        j.whenDurable(t.lastSeq()).get(30, TimeUnit.SECONDS);
                    } catch (Exception | AssertionError e) {
                        failures.add(e);
                    }
                });
                th.start();
                workers.add(th);
            }
            int before = syncs.get();
            start.countDown();
            for (Thread th : workers) {
                th.join(60_000);
            }
            assertThat(failures).isEmpty();
            int used = syncs.get() - before;
            System.out.printf("group commit: %d appends made durable by %d syncs%n", threads, used);
            assertThat(used).isBetween(1, threads - 1);
            assertThat(j.stats().appended()).isEqualTo(threads);
        }
    }

    @Test
    void shouldRetireAppliedRequestsOnly() throws Exception {
        Fixture f = Fixture.in(dir);
        java.util.UUID uuid;
        Ticket c;
        try (Journal j = f.open()) {
            uuid = j.uuid();
            Ticket a = write(j, 0, bytes(3 * MIB / 2, 1));
            Ticket b = trim(j, 0, 4096);
            c = write(j, 8192, bytes(4096, 2));
            j.applied(c);
            assertThat(j.appliedThrough()).isZero();
            j.applied(a);
            assertThat(j.appliedThrough()).isEqualTo(a.lastSeq());
            assertThatThrownBy(() -> j.retire(b.lastSeq())).isInstanceOf(IllegalArgumentException.class);
            j.applied(b);
            assertThat(j.appliedThrough()).isEqualTo(c.lastSeq());
            j.retire(b.lastSeq());
            assertThat(j.getRaw(a.firstSeq())).isNull();
            assertThat(j.getRaw(b.lastSeq())).isNull();
            assertThat(j.getRaw(c.firstSeq())).isNotNull();
            assertThat(j.stats().records()).isEqualTo(1);
            assertThat(j.stats().usedBytes()).isEqualTo(4096);
            assertThat(j.stats().retiredThrough()).isEqualTo(b.lastSeq());
            j.retire(a.lastSeq()); // already retired that far: nothing happens
        }
        try (Journal j = f.expected(uuid).open()) {
            assertThat(j.plan().requests()).extracting(PendingRequest::firstSeq).containsExactly(c.firstSeq());
            assertThat(j.plan().retiredThrough()).isEqualTo(c.firstSeq() - 1);
            j.retire(j.plan().lastSeq());
            assertThat(j.stats().records()).isZero();
        }
        try (Journal j = f.expected(uuid).open()) {
            assertThat(j.plan().requests()).isEmpty();
        }
    }

    @Test
    void shouldMakeReservationsWaitInOrderWhileFull() throws Exception {
        AtomicInteger changes = new AtomicInteger();
        try (Journal j = Fixture.in(dir).capacity(2 * MIB).open()) {
            j.onSaturationChange(changes::incrementAndGet);
            Ticket a = write(j, 0, bytes(MIB, 1));
            Ticket b = write(j, 0, bytes(MIB, 2));
            List<String> order = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> big = j.reserve(3 * MIB / 2).thenRun(() -> order.add("big"));
            CompletableFuture<Void> small = j.reserve(4096).thenRun(() -> order.add("small"));
            assertThat(big).isNotDone();
            assertThat(small).isNotDone();
            assertThat(j.saturated()).isTrue();
            assertThat(j.stats().waiting()).isEqualTo(2);
            assertThat(changes.get()).isEqualTo(1);
            j.applied(a);
            j.retire(a.lastSeq());
            assertThat(big).isNotDone();
            assertThat(small).as("FIFO: the small one waits behind the big one").isNotDone();
            j.applied(b);
            j.retire(b.lastSeq());
            CompletableFuture.allOf(big, small).get(30, TimeUnit.SECONDS);
            assertThat(order).containsExactly("big", "small");
            assertThat(j.saturated()).isFalse();
            assertThat(changes.get()).isEqualTo(2);
        }
    }

    @Test
    void shouldAdmitARequestLargerThanTheCapacityWhenEmpty() throws Exception {
        try (Journal j = Fixture.in(dir).capacity(2 * MIB).open()) {
            CompletableFuture<Void> huge = j.reserve(5 * MIB);
            assertThat(huge).isDone();
            Ticket t = j.begin(5 * MIB);
            j.append(t, RecordKind.WRITE, 0, 5 * MIB, 0, 0, ByteBuffer.wrap(bytes(5 * MIB, 4)));
            CompletableFuture<Void> next = j.reserve(0);
            assertThat(next).isNotDone();
            j.whenDurable(t.lastSeq()).get(30, TimeUnit.SECONDS);
            j.applied(t);
            j.retire(t.lastSeq());
            next.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldFailEverythingAfterAFailedAppend() throws Exception {
        try (Journal j = Fixture.in(dir).open()) {
            Ticket waiting = j.begin(0);
            CompletableFuture<Void> durable = j.whenDurable(waiting.lastSeq());
            j.injectAppendFault(new IllegalStateException("no space for the entry"));
            Ticket t = j.begin(4096);
            assertThatThrownBy(() -> j.append(t, RecordKind.WRITE, 0, 4096, 0, 0, ByteBuffer.wrap(bytes(4096, 1))))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("failed")
                    .hasMessageContaining("no space for the entry");
            j.injectAppendFault(null);
            assertThatThrownBy(() -> durable.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(IOException.class).hasMessageContaining("no space for the entry");
            assertThat(j.whenDurable(1)).isCompletedExceptionally();
            assertThatThrownBy(() -> j.append(waiting, RecordKind.TRIM, 0, 1, 0, 0, null))
                    .isInstanceOf(IOException.class).hasMessageContaining("no space for the entry");
            assertThatThrownBy(() -> j.retire(0)).isInstanceOf(IOException.class);
        }
    }

    @Test
    void shouldFailPendingFuturesOnClose() throws Exception {
        Journal j = Fixture.in(dir).open();
        Ticket t = j.begin(0);
        CompletableFuture<Void> durable = j.whenDurable(t.lastSeq());
        j.close();
        assertThatThrownBy(() -> durable.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(IOException.class)
                .hasMessageContaining("closed");
    }
}
