package io.parityd.it;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One NBD connection held for a whole failover soak (issue 13): pipelined writes of
 * self-describing blocks ({@link RandomWriter#content}), some with FUA, WRITE_ZEROES now and
 * then, a FLUSH now and then, and reads of blocks nobody is writing, each checked against the
 * ledger at once. No two requests touching one block are ever in flight together, so at any
 * moment the ledger says exactly what every idle block must hold: the newest acknowledged write,
 * or zeroes. {@link #sweep} stops sending, lets everything in flight finish and reads every
 * block back.
 *
 * <p>Any error reply, any block that is torn, holds another block's data or an older version,
 * and a connection the server closes are failures ({@link #failures}); the soak fails on the
 * first.
 */
final class SoakClient implements AutoCloseable {

    static final int BLOCK = RandomWriter.BLOCK;
    private static final int CMD_WRITE_ZEROES = 6;
    private static final int FLAG_NO_HOLE = 2;

    enum Kind { WRITE, ZEROES, FLUSH, READ }

    private record Op(long cookie, Kind kind, int first, int blocks, long version, boolean fua, long sentNanos) {
    }

    /** One answered request: when it was sent and answered (nanoTime). */
    record Answered(Kind kind, long sentNanos, long answeredNanos) {
        long latencyNanos() {
            return answeredNanos - sentNanos;
        }
    }

    private final RawNbdClient client;
    private final int blockCount;
    private final int depth;
    private final SplittableRandom random;
    /** Per block: the version of the newest acknowledged write; 0 for zeroes (never written, or zeroed). */
    private final long[] versions;
    private final boolean[] busy;
    private final Map<Long, Op> inFlight = new HashMap<>();
    private final List<Answered> answered = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private final Object output = new Object();
    private final Thread sender;
    private final Thread receiver;
    private long nextCookie = 1;
    private long nextVersion;
    private boolean paused;
    private boolean stopping;
    private long writesAcked;
    private long zeroesAcked;
    private long flushesAcked;
    private long blocksVerified;

    /**
     * @param region   bytes at the start of the export the soak uses (whole blocks)
     * @param seed     the workload's choices
     * @param depth    requests in flight at most
     */
    SoakClient(String uri, String export, long region, long seed, int depth) throws IOException {
        this.client = RawNbdClient.open(uri, export, false);
        this.blockCount = (int) (region / BLOCK);
        this.depth = depth;
        this.random = new SplittableRandom(seed);
        this.versions = new long[blockCount];
        this.busy = new boolean[blockCount];
        this.nextVersion = 1;
        this.sender = new Thread(this::send, "soak-send");
        this.receiver = new Thread(this::receive, "soak-receive");
        receiver.start();
        sender.start();
    }

    // ---- sending --------------------------------------------------------------------------------

    private void send() {
        try {
            while (true) {
                Op op;
                synchronized (this) {
                    while (!stopping && (paused || inFlight.size() >= depth)) {
                        wait(100);
                    }
                    if (stopping) {
                        return;
                    }
                    op = choose();
                    if (op == null) {
                        wait(1); // the blocks it drew are busy: draw again shortly
                        continue;
                    }
                    claim(op);
                }
                transmit(op);
            }
        } catch (IOException e) {
            fail("sending failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The next request, or null if it would touch a busy block. Under the lock. */
    private Op choose() {
        int dice = random.nextInt(100);
        Kind kind = dice < 2 ? Kind.FLUSH : dice < 10 ? Kind.ZEROES : dice < 28 ? Kind.READ : Kind.WRITE;
        if (kind == Kind.FLUSH) {
            return new Op(nextCookie++, kind, 0, 0, 0, false, 0);
        }
        int blocks = switch (kind) {
            case READ -> 1 + random.nextInt(16);
            case ZEROES -> 1 + random.nextInt(64);
            default -> random.nextInt(4) == 0 ? 1 + random.nextInt(64) : 1;
        };
        int first = random.nextInt(blockCount - blocks + 1);
        for (int b = first; b < first + blocks; b++) {
            if (busy[b]) {
                return null;
            }
        }
        boolean fua = kind != Kind.READ && random.nextInt(5) == 0;
        long version = kind == Kind.WRITE ? nextVersion++ : 0;
        return new Op(nextCookie++, kind, first, blocks, version, fua, 0);
    }

    private void claim(Op op) {
        for (int b = op.first(); b < op.first() + op.blocks(); b++) {
            busy[b] = true;
        }
        inFlight.put(op.cookie(), op);
    }

    private void transmit(Op op) throws IOException {
        long offset = (long) op.first() * BLOCK;
        int length = op.blocks() * BLOCK;
        byte[] payload = null;
        if (op.kind() == Kind.WRITE) {
            payload = new byte[length];
            for (int i = 0; i < op.blocks(); i++) {
                System.arraycopy(RandomWriter.content(op.first() + i, op.version()), 0, payload, i * BLOCK, BLOCK);
            }
        }
        int type = switch (op.kind()) {
            case WRITE -> RawNbdClient.CMD_WRITE;
            case ZEROES -> CMD_WRITE_ZEROES;
            case FLUSH -> RawNbdClient.CMD_FLUSH;
            case READ -> RawNbdClient.CMD_READ;
        };
        int flags = (op.fua() ? RawNbdClient.FLAG_FUA : 0)
                | (op.kind() == Kind.ZEROES && (op.cookie() & 1) == 0 ? FLAG_NO_HOLE : 0);
        synchronized (output) {
            synchronized (this) {
                inFlight.put(op.cookie(), new Op(op.cookie(), op.kind(), op.first(), op.blocks(), op.version(),
                        op.fua(), System.nanoTime()));
            }
            client.request(flags, type, op.cookie(), op.kind() == Kind.FLUSH ? 0 : offset,
                    op.kind() == Kind.FLUSH ? 0 : length, payload);
        }
    }

    // ---- receiving ------------------------------------------------------------------------------

    private void receive() {
        try {
            while (true) {
                int magic = client.in.readInt();
                if (magic != RawNbdClient.SIMPLE_REPLY_MAGIC) {
                    fail(String.format("reply magic 0x%08x, not a simple reply", magic));
                    return;
                }
                int error = client.in.readInt();
                long cookie = client.in.readLong();
                Op op;
                synchronized (this) {
                    op = inFlight.get(cookie);
                }
                if (op == null) {
                    fail("a reply for cookie " + cookie + ", which is not in flight");
                    return;
                }
                byte[] data = null;
                if (op.kind() == Kind.READ && error == 0) {
                    data = new byte[op.blocks() * BLOCK];
                    client.in.readFully(data);
                }
                answered(op, error, data, System.nanoTime());
            }
        } catch (EOFException | java.net.SocketException e) {
            synchronized (this) {
                if (!stopping) {
                    fail("the server closed the connection: " + e);
                }
            }
        } catch (IOException e) {
            fail("receiving failed: " + e);
        }
    }

    private synchronized void answered(Op op, int error, byte[] data, long now) {
        inFlight.remove(op.cookie());
        answered.add(new Answered(op.kind(), op.sentNanos(), now));
        if (error != 0) {
            fail(op.kind() + " of blocks " + op.first() + ".." + (op.first() + op.blocks() - 1)
                    + " answered with errno " + error);
        } else {
            switch (op.kind()) {
                case WRITE -> {
                    for (int b = op.first(); b < op.first() + op.blocks(); b++) {
                        versions[b] = op.version();
                    }
                    writesAcked++;
                }
                case ZEROES -> {
                    for (int b = op.first(); b < op.first() + op.blocks(); b++) {
                        versions[b] = 0;
                    }
                    zeroesAcked++;
                }
                case FLUSH -> flushesAcked++;
                case READ -> check(op.first(), data, "read");
            }
        }
        for (int b = op.first(); b < op.first() + op.blocks(); b++) {
            busy[b] = false;
        }
        notifyAll();
    }

    /** Compares blocks read from {@code first} with the ledger. Under the lock. */
    private void check(int first, byte[] data, String when) {
        for (int i = 0; i < data.length / BLOCK; i++) {
            int b = first + i;
            byte[] block = java.util.Arrays.copyOfRange(data, i * BLOCK, (i + 1) * BLOCK);
            long want = versions[b];
            long found = RandomWriter.versionOf(block, b);
            blocksVerified++;
            if (found != want) {
                fail(when + ": block " + b + " should hold " + (want == 0 ? "zeroes" : "version " + want) + ", holds "
                        + describe(block, b));
            }
        }
    }

    /** What a block holds, for a failure message: a version, another block's data, or torn bytes. */
    static String describe(byte[] block, int b) {
        long version = RandomWriter.versionOf(block, b);
        if (version == 0) {
            return "zeroes";
        }
        if (version > 0) {
            return "version " + version;
        }
        ByteBuffer head = ByteBuffer.wrap(block);
        int owner = head.getInt(0);
        long v = head.getLong(4);
        if (owner != b && owner >= 0 && java.util.Arrays.equals(block, RandomWriter.content(owner, v))) {
            return "block " + owner + "'s version " + v + " (misplaced)";
        }
        return "torn bytes (first sector says block " + owner + " version " + v + ")";
    }

    private synchronized void fail(String what) {
        if (failures.size() < 50) {
            failures.add(what);
        }
        notifyAll();
    }

    // ---- what the soak asks -----------------------------------------------------------------------

    /** Waits until {@code more} writes beyond those acknowledged now are acknowledged; false on timeout or failure. */
    synchronized boolean awaitWrites(long more, Duration timeout) throws InterruptedException {
        long target = writesAcked + more;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (writesAcked < target && failures.isEmpty()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
        }
        return failures.isEmpty();
    }

    /**
     * Stops sending, waits for every request in flight, reads every block back and checks it
     * against the ledger, then sends again. Returns false if something stayed unanswered for
     * {@code timeout}; mismatches go to {@link #failures}.
     */
    boolean sweep(Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            paused = true;
        }
        try {
            if (!drain(deadline)) {
                return false;
            }
            int step = 64;
            for (int first = 0; first < blockCount; first += step) {
                Op op;
                synchronized (this) {
                    while (inFlight.size() >= depth && failures.isEmpty()) {
                        if (System.nanoTime() > deadline) {
                            return false;
                        }
                        wait(100);
                    }
                    op = new Op(nextCookie++, Kind.READ, first, Math.min(step, blockCount - first), 0, false, 0);
                    claim(op);
                }
                transmit(op);
            }
            return drain(deadline);
        } finally {
            synchronized (this) {
                paused = false;
                notifyAll();
            }
        }
    }

    private synchronized boolean drain(long deadline) throws InterruptedException {
        while (!inFlight.isEmpty() && failures.isEmpty()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
        }
        return inFlight.isEmpty();
    }

    /** The longest time any request answered between {@code from} and {@code to} (nanoTime) waited. */
    synchronized long longestWaitNanos(long from, long to) {
        long longest = 0;
        for (Answered a : answered) {
            if (a.answeredNanos() >= from && a.answeredNanos() <= to) {
                longest = Math.max(longest, a.latencyNanos());
            }
        }
        return longest;
    }

    synchronized List<String> failures() {
        return List.copyOf(failures);
    }

    synchronized int inFlight() {
        return inFlight.size();
    }

    synchronized String totals() {
        return String.format("%d writes, %d write-zeroes and %d flushes acknowledged; %d blocks read back and verified",
                writesAcked, zeroesAcked, flushesAcked, blocksVerified);
    }

    synchronized long writesAcknowledged() {
        return writesAcked;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        synchronized (this) {
            stopping = true;
            notifyAll();
        }
        sender.join(TimeUnit.SECONDS.toMillis(10));
        client.close();
        receiver.join(TimeUnit.SECONDS.toMillis(10));
    }
}
