package io.parityd.it;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Pipelined random writes on one raw connection, with a ledger of what was sent and what was
 * acknowledged, for crash tests. The volume is divided into blocks of {@link #BLOCK} bytes; each
 * write covers one or more whole blocks, and each 512-byte sector carries its block number, a
 * version and a checksum, so a reader can tell whole old, whole new and torn apart.
 * Never two writes to the same block in flight at once, so "the last acknowledged version, or one
 * sent after it" is exactly what a block may hold after a crash.
 */
final class RandomWriter implements AutoCloseable {

    static final int BLOCK = 4096;
    private static final int SECTOR = 512;

    /** One write: its blocks and the version they carry. */
    record Sent(int firstBlock, int blocks, long version) {
    }

    private final RawNbdClient client;
    private final int blockCount;
    private final SplittableRandom random;
    private final Semaphore window;
    private final Map<Long, Sent> inFlight = new HashMap<>();
    private final Set<Integer> busy = new HashSet<>();
    private final List<Sent> acked = new ArrayList<>();
    private final List<Sent> sent = new ArrayList<>();
    private final CountDownLatch firstAcks = new CountDownLatch(20);
    /** Version → when it was sent (nanoTime), while in flight. */
    private final Map<Long, Long> sentAt = new HashMap<>();
    /** Each acknowledged write's latency, in acknowledgement order. */
    private final List<Long> latencies = new ArrayList<>();
    private final Thread sender;
    private final Thread receiver;
    private volatile boolean stop;
    private long nextVersion;

    /**
     * @param firstVersion versions start here (keep them rising across rounds)
     * @param depth        requests in flight at most
     */
    RandomWriter(String uri, String export, long volumeSize, long seed, long firstVersion, int depth)
            throws IOException {
        this.client = RawNbdClient.open(uri, export, false);
        this.blockCount = (int) (volumeSize / BLOCK);
        this.random = new SplittableRandom(seed);
        this.window = new Semaphore(depth);
        this.nextVersion = firstVersion;
        this.sender = new Thread(this::send, "random-writer-send");
        this.receiver = new Thread(this::receive, "random-writer-receive");
        sender.start();
        receiver.start();
    }

    /** The bytes of block {@code block} at {@code version}: every sector self-describing. */
    static byte[] content(int block, long version) {
        ByteBuffer b = ByteBuffer.allocate(BLOCK);
        SplittableRandom r = new SplittableRandom(block * 1_000_003L + version);
        for (int s = 0; s < BLOCK / SECTOR; s++) {
            b.putInt(block).putLong(version).putInt(s);
            for (int i = 16; i < SECTOR; i += 8) {
                b.putLong(r.nextLong());
            }
        }
        return b.array();
    }

    /** Which version a block holds: -1 if torn or not written by this class (all zeroes give 0 only if never written). */
    static long versionOf(byte[] block, int blockNumber) {
        ByteBuffer b = ByteBuffer.wrap(block);
        if (java.util.Arrays.equals(block, new byte[BLOCK])) {
            return 0;
        }
        long version = b.getLong(4);
        return java.util.Arrays.equals(block, content(blockNumber, version)) ? version : -1;
    }

    private void send() {
        try {
            while (!stop) {
                window.acquire();
                Sent s;
                synchronized (this) {
                    int blocks = random.nextInt(8) == 0 ? 1 + random.nextInt(16) : 1;
                    int first = random.nextInt(blockCount - blocks + 1);
                    boolean free = true;
                    for (int i = first; i < first + blocks; i++) {
                        free &= !busy.contains(i);
                    }
                    if (!free) {
                        window.release();
                        continue;
                    }
                    s = new Sent(first, blocks, ++nextVersion);
                    for (int i = first; i < first + blocks; i++) {
                        busy.add(i);
                    }
                    inFlight.put(s.version(), s);
                    sentAt.put(s.version(), System.nanoTime());
                    sent.add(s);
                }
                byte[] data = new byte[s.blocks() * BLOCK];
                for (int i = 0; i < s.blocks(); i++) {
                    System.arraycopy(content(s.firstBlock() + i, s.version()), 0, data, i * BLOCK, BLOCK);
                }
                client.request(0, RawNbdClient.CMD_WRITE, s.version(), (long) s.firstBlock() * BLOCK, data.length, data);
            }
        } catch (IOException | InterruptedException e) {
            // the server went away: expected at kill -9
        }
    }

    private void receive() {
        try {
            while (true) {
                RawNbdClient.Reply r = client.reply(0);
                synchronized (this) {
                    Sent s = inFlight.remove(r.cookie());
                    Long at = sentAt.remove(r.cookie());
                    if (s != null && r.error() == 0) {
                        acked.add(s);
                        latencies.add(System.nanoTime() - at);
                        notifyAll();
                        for (int i = s.firstBlock(); i < s.firstBlock() + s.blocks(); i++) {
                            busy.remove(i);
                        }
                        firstAcks.countDown();
                        window.release();
                    } else if (s != null) {
                        throw new IllegalStateException("write " + s + " failed with errno " + r.error());
                    }
                }
            }
        } catch (IOException | AssertionError e) {
            // end of stream: the server is gone
        } catch (IllegalStateException e) {
            failure = e;
        }
    }

    private volatile IllegalStateException failure;

    void awaitFirstAcks() throws InterruptedException {
        if (!firstAcks.await(60, TimeUnit.SECONDS)) {
            throw new AssertionError("no writes acknowledged within a minute");
        }
    }

    /**
     * Waits until {@code n} writes have been acknowledged (or the connection ended), at most a
     * minute: a moment in the workload chosen by count, not by clock.
     */
    synchronized void awaitAcknowledged(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (acked.size() < n && receiver.isAlive()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("only " + acked.size() + " of " + n + " writes acknowledged within a minute");
            }
            TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
        }
    }

    /**
     * Stops sending and waits (at most {@code timeout}) until every write sent was answered: the
     * end of a run whose server stays up, after which each block holds its last acknowledged
     * version. Returns false if some are still unanswered.
     */
    boolean finish(java.time.Duration timeout) throws InterruptedException {
        stop = true;
        window.release(1000);
        sender.join(TimeUnit.SECONDS.toMillis(10));
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (!inFlight.isEmpty() && receiver.isAlive()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
            }
            return inFlight.isEmpty();
        }
    }

    /** The latencies of acknowledged writes so far, in nanoseconds, in acknowledgement order. */
    synchronized List<Long> latencies() {
        return List.copyOf(latencies);
    }

    /** Waits for the connection to end (the server was killed), then stops sending. */
    void awaitEnd() throws InterruptedException {
        receiver.join(TimeUnit.MINUTES.toMillis(1));
        stop = true;
        window.release(1000);
        sender.join(TimeUnit.SECONDS.toMillis(10));
    }

    /** A write the server answered with an error, if any: never acceptable here. */
    IllegalStateException failure() {
        return failure;
    }

    synchronized List<Sent> acknowledged() {
        return List.copyOf(acked);
    }

    /** Every write sent and not acknowledged: its blocks may hold it or what they held before. */
    synchronized List<Sent> unacknowledged() {
        return List.copyOf(inFlight.values());
    }

    synchronized long lastVersion() {
        return nextVersion;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        stop = true;
        window.release(1000);
        client.close();
        sender.join(TimeUnit.SECONDS.toMillis(10));
        receiver.join(TimeUnit.SECONDS.toMillis(10));
    }
}
