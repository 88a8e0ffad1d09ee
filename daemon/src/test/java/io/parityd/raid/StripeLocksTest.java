package io.parityd.raid;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class StripeLocksTest {

    @Test
    void shouldHoldExactlyTheSlotsOfTheRange() {
        StripeLocks locks = new StripeLocks(8);
        locks.lock(3, 5);
        try {
            assertHeld(locks, 8, 3, 4, 5);
        } finally {
            locks.unlock(3, 5);
        }
        assertHeld(locks, 8);
    }

    @Test
    void shouldHoldWrappedRangeAcrossTheEndOfTheTable() {
        StripeLocks locks = new StripeLocks(8);
        locks.lock(14, 17); // slots 6, 7, 0, 1
        try {
            assertHeld(locks, 8, 0, 1, 6, 7);
        } finally {
            locks.unlock(14, 17);
        }
        assertHeld(locks, 8);
    }

    @Test
    void shouldHoldWholeTableForRangeAtLeastAsLongAsIt() {
        StripeLocks locks = new StripeLocks(8);
        locks.lock(5, 12); // 8 stripes
        try {
            assertHeld(locks, 8, 0, 1, 2, 3, 4, 5, 6, 7);
        } finally {
            locks.unlock(5, 12);
        }
        locks.lock(5, 1000);
        locks.unlock(5, 1000);
        assertHeld(locks, 8);
    }

    @Test
    void shouldBlockOverlappingRangeUntilReleased() throws Exception {
        StripeLocks locks = new StripeLocks(16);
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            CountDownLatch acquired = new CountDownLatch(1);
            locks.lock(5, 7);
            Future<?> waiter = other.submit(() -> {
                locks.lock(7, 9);
                acquired.countDown();
                locks.unlock(7, 9);
            });
            awaitWaiter(locks, 7);
            assertThat(acquired.getCount()).isEqualTo(1);
            locks.unlock(5, 7);
            assertThat(acquired.await(10, TimeUnit.SECONDS)).isTrue();
            waiter.get(10, TimeUnit.SECONDS);
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void shouldLetDisjointRangeProceedWhileAnotherIsHeld() throws Exception {
        StripeLocks locks = new StripeLocks(16);
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            locks.lock(0, 3);
            Future<?> disjoint = other.submit(() -> {
                locks.lock(4, 7);
                locks.unlock(4, 7);
            });
            disjoint.get(10, TimeUnit.SECONDS);
            locks.unlock(0, 3);
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void shouldNotDeadlockWhenWrappedAndPlainRangesCross() {
        // A wrapped range (slots 6,7,0,1) and a plain one (slots 0..7) contend from both ends; any
        // acquisition order other than ascending slots deadlocks here within a few iterations.
        StripeLocks locks = new StripeLocks(8);
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            Thread a = new Thread(() -> repeat(locks, 14, 17));
            Thread b = new Thread(() -> repeat(locks, 1, 7));
            Thread c = new Thread(() -> repeat(locks, 7, 8));
            a.start();
            b.start();
            c.start();
            a.join();
            b.join();
            c.join();
        });
    }

    @Test
    void shouldRefuseBackwardsRangeAndBadTableSize() {
        StripeLocks locks = new StripeLocks(8);
        assertThatThrownBy(() -> locks.lock(5, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> locks.lock(-1, 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new StripeLocks(12)).isInstanceOf(IllegalArgumentException.class);
    }

    private static void repeat(StripeLocks locks, long first, long last) {
        for (int i = 0; i < 20_000; i++) {
            locks.lock(first, last);
            locks.unlock(first, last);
        }
    }

    private static void awaitWaiter(StripeLocks locks, long stripe) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!locks.hasWaiters(stripe)) {
            assertThat(System.nanoTime()).as("waiter queued on stripe %d", stripe).isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    private static void assertHeld(StripeLocks locks, int slots, int... held) {
        for (int s = 0; s < slots; s++) {
            boolean want = false;
            for (int h : held) {
                want |= h == s;
            }
            assertThat(locks.isHeldByCurrentThread(s)).as("slot %d", s).isEqualTo(want);
        }
    }
}
