package io.parityd.raid;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** A {@link SlotListener} that remembers everything it hears, for tests to assert on and wait for. */
class RecordingListener implements SlotListener {

    final Map<Integer, AtomicInteger> failures = new ConcurrentHashMap<>();
    final Map<Integer, List<Long>> progress = new ConcurrentHashMap<>();
    final Map<Integer, Boolean> finished = new ConcurrentHashMap<>();
    final Map<Integer, Long> stoppedAt = new ConcurrentHashMap<>();
    final Map<Integer, Exception> stopCause = new ConcurrentHashMap<>();

    @Override
    public void slotFailed(int slot, IOException cause) {
        failures.computeIfAbsent(slot, s -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public void rebuildProgress(int slot, long stripes) {
        progress.computeIfAbsent(slot, s -> new CopyOnWriteArrayList<>()).add(stripes);
    }

    @Override
    public synchronized void rebuildFinished(int slot) {
        finished.put(slot, true);
        notifyAll();
    }

    @Override
    public synchronized void rebuildStopped(int slot, long stripes, Exception cause) {
        stoppedAt.put(slot, stripes);
        stopCause.put(slot, cause);
        notifyAll();
    }

    int failuresOf(int slot) {
        AtomicInteger n = failures.get(slot);
        return n == null ? 0 : n.get();
    }

    long lastProgress(int slot) {
        List<Long> p = progress.get(slot);
        return p == null || p.isEmpty() ? 0 : p.get(p.size() - 1);
    }

    /** Waits (bounded) until the rebuild of {@code slot} has finished; fails the test if it stopped. */
    void awaitFinished(int slot) throws InterruptedException {
        awaitEnded(slot);
        assertThat(stopCause.get(slot)).as("rebuild of slot %d stopped", slot).isNull();
        assertThat(finished).containsKey(slot);
    }

    /** Waits, up to a minute, for the end the listener is told of; woken by that very call. */
    synchronized void awaitEnded(int slot) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!finished.containsKey(slot) && !stoppedAt.containsKey(slot)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("rebuild of slot " + slot + " did not end within 60 s");
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }
}
