package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: a seeded, bounded fuzzer of both NBD phases against the real daemon. Several threads
 * open connection after connection and send what a broken or hostile client might: option
 * streams with wrong lengths, unknown options, truncated names, floods, clients that never read;
 * then, in transmission, requests with flipped bits, unknown types and flags, lengths that do not
 * match their payload, ranges past the end, garbage, and abrupt hang-ups. Meanwhile a well-behaved
 * client connects again and again, reads a known pattern and writes and reads back its own block.
 *
 * <p>What must hold: the daemon stays up, the well-behaved client is served within a bound every
 * time, the daemon's resident memory and open file descriptors stay bounded, no buffer leaks
 * (paranoid leak detection), and no byte outside the fuzzed region changes: the fuzzer's bytes,
 * read at every offset where the server could take them for a request header, never name a write
 * outside {@code [0, FUZZ_END)} that the server would carry out. After the run the array's parity
 * is checked offline.
 *
 * <p>{@code -Dparityd.fuzz.seconds} (default 20) and {@code -Dparityd.fuzz.seed} (default: the
 * clock, printed) make a run longer or repeat one; {@code bench/nbd-fuzz.sh} runs it long.
 */
class NbdFuzzIT {

    private static final int MIB = 1 << 20;
    /** Each member's size for create (data plus parityd's metadata); the volume is about twice it. */
    private static final String MEMBER_SIZE = "48M";
    /**
     * The export's size as the server announces it, which the sender's safety check must use: a
     * check against a smaller size let zeroing requests through that reached over the pattern.
     */
    private static volatile long volume;
    private static final long FUZZ_END = 32L * MIB;
    private static final long PATTERN_AT = 48L * MIB;
    private static final int PATTERN_BYTES = 16 * MIB;
    private static final long WITNESS_AT = 80L * MIB;
    private static final String EXPORT = "fuzz";
    private static final int THREADS = 4;
    private static final Duration CASE_LIMIT = Duration.ofSeconds(6);
    private static final Duration WITNESS_BOUND = Duration.ofSeconds(10);
    private static final long RSS_BOUND = 900L * MIB;
    private static final long SECONDS = Long.getLong("parityd.fuzz.seconds", 20);

    private static final int[] OPTIONS = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0x7fffffff, -1};
    private static final int[] TYPES = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x7fff, 0xffff};

    @TempDir
    Path dir;

    @Test
    void shouldStayUpBoundedAndTruthfulUnderFuzzedTraffic() throws Exception {
        long seed = Long.getLong("parityd.fuzz.seed", System.nanoTime());
        System.out.printf("NbdFuzzIT: seed %d, %d s, %d threads (repeat with -Dparityd.fuzz.seed=%d)%n",
                seed, SECONDS, THREADS, seed);
        List<Path> members = Arrays.members(dir, 3);
        // create's --size is each member's: three members of RAID-5 hold two members' worth.
        Arrays.create(EXPORT, MEMBER_SIZE, members);
        Path log = dir.resolve("parityd.log");
        List<String> args = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:0",
                "--admin-socket", Arrays.adminSocket(log).toString(), "--handshake-timeout", "3s"));
        args.addAll(Arrays.paths(members));
        DaemonProcess daemon = DaemonProcess.start(log, DaemonProcess.SERVING, new DaemonProcess.Launch(
                Map.of("PARITYD_JAVA_OPTS", "-Xmx256m -XX:MaxDirectMemorySize=256m -Dio.netty.leakDetection.level=paranoid"),
                false), args.toArray(String[]::new));
        try {
            byte[] pattern = new byte[PATTERN_BYTES];
            new Random(seed ^ 0x14).nextBytes(pattern);
            try (RawNbdClient c = RawNbdClient.open(daemon.uri(), EXPORT, false)) {
                volume = c.exportSize;
                assertThat(volume).as("export size: room for the witness's blocks").isGreaterThan(WITNESS_AT + MIB);
                for (int at = 0; at < PATTERN_BYTES; at += 4 * MIB) {
                    c.write(PATTERN_AT + at, java.util.Arrays.copyOfRange(pattern, at, at + 4 * MIB));
                }
            }
            long fdsBefore = openFiles(daemon.pid());
            Stats stats = fuzz(daemon, pattern, seed, fdsBefore);
            System.out.printf("NbdFuzzIT: %d cases, %d MiB sent; witness served %d times, slowest %d ms;"
                            + " RSS at most %d MiB; file descriptors %d before, %d after%n",
                    stats.cases.get(), stats.bytesSent.get() >> 20, stats.witnessRuns.get(), stats.witnessMaxMs.get(),
                    stats.maxRss.get() >> 20, fdsBefore, stats.fdsAfter);

            assertThat(stats.failure.get()).as("first failure (seed %d)", seed).isNull();
            assertThat(DaemonProcess.running(daemon.pid())).as("daemon alive after the fuzz").isTrue();
            assertThat(stats.cases.get()).as("fuzz cases run").isGreaterThan(100);
            assertThat(stats.witnessRuns.get()).as("witness runs").isGreaterThan(SECONDS);
            assertThat(stats.witnessMaxMs.get()).as("slowest witness, ms").isLessThan(WITNESS_BOUND.toMillis());
            assertThat(stats.maxRss.get()).as("daemon RSS, bytes").isLessThan(RSS_BOUND);
            assertThat(stats.fdsAfter).as("open files once the fuzzers hung up").isLessThanOrEqualTo(fdsBefore + 4);
            try (RawNbdClient c = RawNbdClient.open(daemon.uri(), EXPORT, true)) {
                for (int at = 0; at < PATTERN_BYTES; at += 4 * MIB) {
                    assertThat(c.read(PATTERN_AT + at, 4 * MIB)).as("pattern at +%d MiB after the fuzz", at / MIB)
                            .isEqualTo(java.util.Arrays.copyOfRange(pattern, at, at + 4 * MIB));
                }
            }
            assertThat(daemon.terminate(Duration.ofSeconds(60))).as("clean stop").isZero();
            assertThat(daemon.log()).doesNotContain("LEAK:").doesNotContain("IllegalReferenceCount")
                    .doesNotContain("OutOfMemoryError").doesNotContain(" ERROR ");
            Arrays.assertParityClean(members);
        } finally {
            daemon.close();
        }
    }

    private static final class Stats {
        final AtomicLong cases = new AtomicLong();
        final AtomicLong bytesSent = new AtomicLong();
        final AtomicLong witnessRuns = new AtomicLong();
        final AtomicLong witnessMaxMs = new AtomicLong();
        final AtomicLong maxRss = new AtomicLong();
        final AtomicReference<String> failure = new AtomicReference<>();
        long fdsAfter;
    }

    private Stats fuzz(DaemonProcess daemon, byte[] pattern, long seed, long fdsBefore) throws Exception {
        Stats stats = new Stats();
        long deadline = System.nanoTime() + Duration.ofSeconds(SECONDS).toNanos();
        ScheduledExecutorService reaper = Executors.newSingleThreadScheduledExecutor();
        ConcurrentLinkedQueue<Socket> open = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        try {
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                threads.add(start("fuzz-" + t, () -> {
                    Random random = new Random(seed * 31 + thread);
                    for (long n = 0; System.nanoTime() < deadline && stats.failure.get() == null; n++) {
                        try {
                            fuzzCase(daemon.uri(), new Random(random.nextLong()), stats, reaper, open);
                            stats.cases.incrementAndGet();
                        } catch (AssertionError e) {
                            stats.failure.compareAndSet(null, "thread " + thread + " case " + n + ": " + e.getMessage());
                        }
                    }
                }));
            }
            Thread witness = start("witness", () -> {
                Random random = new Random(seed);
                while (System.nanoTime() < deadline && stats.failure.get() == null) {
                    long t0 = System.nanoTime();
                    try {
                        witness(daemon.uri(), pattern, random);
                    } catch (IOException | AssertionError e) {
                        stats.failure.compareAndSet(null, "the well-behaved client: " + e);
                    }
                    stats.witnessRuns.incrementAndGet();
                    stats.witnessMaxMs.accumulateAndGet((System.nanoTime() - t0) / 1_000_000, Math::max);
                    sleep(200);
                }
            });
            while (System.nanoTime() < deadline && stats.failure.get() == null) {
                stats.maxRss.accumulateAndGet(rss(daemon.pid()), Math::max);
                if (!DaemonProcess.running(daemon.pid())) {
                    stats.failure.compareAndSet(null, "the daemon died; log:\n" + daemon.log());
                }
                Thread.sleep(100);
            }
            for (Thread t : threads) {
                t.join(CASE_LIMIT.toMillis() * 3);
            }
            witness.join(WITNESS_BOUND.toMillis() * 3);
            assertThat(threads).as("fuzz threads ended").noneMatch(Thread::isAlive);
            assertThat(witness.isAlive()).as("witness ended").isFalse();
        } finally {
            reaper.shutdownNow();
            for (Socket s : open) {
                s.close();
            }
        }
        stats.maxRss.accumulateAndGet(rss(daemon.pid()), Math::max);
        // The server notices the hang-ups; give it a moment to close its side.
        long fds = openFiles(daemon.pid());
        long closesBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (fds > fdsBefore && System.nanoTime() < closesBy) {
            Thread.sleep(50); // polling /proc: nothing signals the server's closes
            fds = Math.min(fds, openFiles(daemon.pid()));
        }
        stats.fdsAfter = fds;
        return stats;
    }

    /** One connection: a fuzzed handshake, and if it may have reached transmission, fuzzed requests. */
    private static void fuzzCase(String uri, Random r, Stats stats, ScheduledExecutorService reaper,
                                 ConcurrentLinkedQueue<Socket> open) {
        URI u = URI.create(uri);
        Socket socket;
        try {
            socket = new Socket(u.getHost(), u.getPort());
        } catch (IOException e) {
            // Refused past --max-connections would be fine; the daemon's liveness is checked apart.
            return;
        }
        open.add(socket);
        // Every case ends within CASE_LIMIT, whether or not the server reads what it is sent.
        var closer = reaper.schedule(() -> quietClose(socket), CASE_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        try {
            socket.setSoTimeout((int) CASE_LIMIT.toMillis());
            InputStream in = socket.getInputStream();
            boolean reads = r.nextInt(10) != 0; // one client in ten never reads a reply
            Thread drain = reads ? start("drain", () -> drain(in)) : null;
            Sender out = new Sender(socket.getOutputStream(), stats);
            handshake(r, out);
            if (out.maybeTransmitting) {
                int requests = 1 + r.nextInt(r.nextInt(8) == 0 ? 2000 : 60);
                for (int i = 0; i < requests; i++) {
                    request(r, out);
                }
            }
            boolean disconnect = out.maybeTransmitting && r.nextBoolean();
            if (disconnect) {
                out.trySend(ByteBuffer.allocate(28).putInt(RawNbdClient.REQUEST_MAGIC).putShort((short) 0)
                        .putShort((short) RawNbdClient.CMD_DISC).putLong(r.nextLong()).putLong(0).putInt(0).array());
            }
            out.flush();
            if (drain != null && disconnect) {
                drain.join(2000); // the server answers what it has, then hangs up
            }
        } catch (IOException | InterruptedException e) {
            // The server hung up, or the case ran out of time: both are allowed outcomes.
        } finally {
            closer.cancel(false);
            quietClose(socket);
            open.remove(socket);
        }
    }

    private static void handshake(Random r, Sender out) throws IOException {
        int flags = switch (r.nextInt(8)) {
            case 0 -> r.nextInt();
            case 1 -> 1; // fixed newstyle, with the 124 zeroes
            case 2 -> 0; // old newstyle: EXPORT_NAME only
            default -> 3;
        };
        out.send(ByteBuffer.allocate(4).putInt(flags).array());
        int options = r.nextInt(8) == 0 ? r.nextInt(3000) : r.nextInt(6);
        for (int i = 0; i < options; i++) {
            out.trySend(option(r));
        }
        switch (r.nextInt(6)) {
            case 0 -> { } // end in the handshake
            case 1 -> out.send(optionBytes(1, name(r, true)), true); // EXPORT_NAME
            default -> {
                if (r.nextBoolean()) {
                    out.send(optionBytes(8, new byte[0])); // structured replies
                }
                byte[] name = name(r, true);
                ByteBuffer go = ByteBuffer.allocate(4 + name.length + 2 + 4).putInt(name.length).put(name)
                        .putShort((short) 2).putShort((short) 3).putShort((short) 1);
                out.send(optionBytes(r.nextBoolean() ? 7 : 6, go.array()), true);
            }
        }
    }

    /** An option: well formed, or with a length that lies, unknown code, or garbage data. */
    private static byte[] option(Random r) {
        int code = OPTIONS[r.nextInt(OPTIONS.length)];
        byte[] data = switch (r.nextInt(5)) {
            case 0 -> new byte[0];
            case 1 -> name(r, false);
            case 2 -> {
                byte[] n = name(r, false);
                int infos = r.nextInt(5);
                ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos).putInt(r.nextInt(4) == 0 ? r.nextInt() : n.length)
                        .put(n).putShort((short) (r.nextInt(4) == 0 ? r.nextInt() : infos));
                for (int i = 0; i < infos; i++) {
                    b.putShort((short) r.nextInt(6));
                }
                yield b.array();
            }
            case 3 -> garbage(r, r.nextInt(64));
            default -> garbage(r, r.nextInt(r.nextInt(20) == 0 ? 70_000 : 600));
        };
        byte[] bytes = optionBytes(code, data);
        if (r.nextInt(6) == 0) { // the declared length lies
            ByteBuffer.wrap(bytes).putInt(12, r.nextInt(4) == 0 ? r.nextInt() : Math.max(0, data.length + r.nextInt(64) - 32));
        }
        if (r.nextInt(12) == 0) { // a flipped bit anywhere
            int bit = r.nextInt(bytes.length * 8);
            bytes[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        return bytes;
    }

    private static byte[] optionBytes(int code, byte[] data) {
        return ByteBuffer.allocate(16 + data.length).putLong(RawNbdClient.IHAVEOPT).putInt(code).putInt(data.length)
                .put(data).array();
    }

    /** The export's name mostly; sometimes another, an empty one or a long or hostile one. */
    private static byte[] name(Random r, boolean mostlyRight) {
        if (mostlyRight && r.nextInt(4) != 0) {
            return EXPORT.getBytes(StandardCharsets.UTF_8);
        }
        return switch (r.nextInt(5)) {
            case 0 -> new byte[0];
            case 1 -> "fuzz\nERROR forged line\u0000\u001b[31m".getBytes(StandardCharsets.UTF_8);
            case 2 -> garbage(r, 4097 + r.nextInt(100));
            case 3 -> garbage(r, r.nextInt(40));
            default -> EXPORT.getBytes(StandardCharsets.UTF_8);
        };
    }

    /**
     * A request: valid or nearly, or mutated; never a write the server would do outside the
     * fuzzed region (drawn again until it is not, or the connection ends there).
     */
    private static void request(Random r, Sender out) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            if (tryRequest(r, out)) {
                return;
            }
        }
        throw new IOException("hang up: no safe next request after what was sent");
    }

    private static boolean tryRequest(Random r, Sender out) throws IOException {
        int type = r.nextInt(3) == 0 ? TYPES[r.nextInt(TYPES.length)] : new int[] {0, 1, 1, 3, 4, 6, 7}[r.nextInt(7)];
        int flags = switch (r.nextInt(8)) {
            case 0 -> r.nextInt(0x10000);
            case 1 -> 1; // FUA
            case 2 -> 2; // NO_HOLE
            case 3 -> 4; // DF
            default -> 0;
        };
        long length = switch (r.nextInt(10)) {
            case 0 -> 0;
            case 1 -> r.nextInt() & 0xffffffffL;
            case 2 -> 32L * MIB + r.nextInt(3) - 1;
            case 3 -> 1 + r.nextInt(4 * MIB);
            default -> 512L * (1 + r.nextInt(128));
        };
        long offset = switch (r.nextInt(10)) {
            case 0 -> r.nextLong();
            case 1 -> volume - r.nextInt(8192);
            case 2 -> -1L - r.nextInt(4096);
            case 3 -> Math.floorMod(r.nextLong(), volume * 4);
            default -> (r.nextLong() & (FUZZ_END - 1)) & ~511L;
        };
        ByteBuffer header = ByteBuffer.allocate(28).putInt(RawNbdClient.REQUEST_MAGIC).putShort((short) flags)
                .putShort((short) type).putLong(r.nextLong()).putLong(offset).putInt((int) length);
        byte[] h = header.array();
        if (r.nextInt(10) == 0) {
            int bit = r.nextInt(h.length * 8);
            h[bit / 8] ^= (byte) (1 << (bit % 8));
        }
        if (!out.trySend(h)) {
            return false;
        }
        if (type == RawNbdClient.CMD_WRITE && length <= 33L * MIB) {
            long payload = switch (r.nextInt(12)) {
                case 0 -> Math.max(0, length - 1 - r.nextInt(100)); // short: the next header is read as payload
                case 1 -> length + 1 + r.nextInt(100); // long: payload is read as the next header
                default -> length;
            };
            out.payload(r, payload);
        }
        if (r.nextInt(40) == 0) {
            out.trySend(garbage(r, r.nextInt(200)));
        }
        if (r.nextInt(200) == 0) {
            throw new IOException("hang up mid-stream");
        }
        return true;
    }

    /**
     * The connection's outgoing bytes. Before sending anything it checks every offset where a
     * request header could start in the last bytes sent plus the new ones (a server that misreads
     * a length reads a header from there): bytes that would make a header there name a write,
     * trim or zeroing the server would do outside {@code [0, FUZZ_END)} are not sent
     * ({@link #trySend}), or end the connection there ({@link #send}). A header cut short when the connection
     * ends is never carried out. Payloads are bytes below 0x10, which never spell the magic.
     */
    private static final class Sender {
        private final OutputStream out;
        private final Stats stats;
        private final byte[] tail = new byte[27];
        private int tailLength;
        boolean maybeTransmitting;

        Sender(OutputStream out, Stats stats) {
            this.out = new java.io.BufferedOutputStream(out, 65536);
            this.stats = stats;
        }

        void send(byte[] bytes) throws IOException {
            send(bytes, false);
        }

        void send(byte[] bytes, boolean entersTransmission) throws IOException {
            if (!trySend(bytes)) {
                throw new IOException("hang up: these bytes would make a write outside the fuzzed region");
            }
            maybeTransmitting |= entersTransmission;
        }

        /** Sends the bytes unless they would complete a header that writes outside the fuzzed region. */
        boolean trySend(byte[] bytes) throws IOException {
            byte[] window = new byte[tailLength + bytes.length];
            System.arraycopy(tail, 0, window, 0, tailLength);
            System.arraycopy(bytes, 0, window, tailLength, bytes.length);
            if (!safe(window)) {
                return false;
            }
            out.write(bytes);
            stats.bytesSent.addAndGet(bytes.length);
            int keep = Math.min(27, window.length);
            System.arraycopy(window, window.length - keep, tail, 0, keep);
            tailLength = keep;
            return true;
        }

        void payload(Random r, long length) throws IOException {
            byte[] block = new byte[(int) Math.min(length, 1 << 20)];
            for (int i = 0; i < block.length; i++) {
                block[i] = (byte) (r.nextInt() & 0x0f);
            }
            for (long left = length; left > 0; left -= block.length) {
                int n = (int) Math.min(left, block.length);
                byte[] chunk = n == block.length ? block : java.util.Arrays.copyOf(block, n);
                send(chunk);
            }
        }

        void flush() throws IOException {
            out.flush();
        }

        private static boolean safe(byte[] window) {
            ByteBuffer w = ByteBuffer.wrap(window);
            for (int i = 0; i + 28 <= window.length; i++) {
                if (w.getInt(i) != RawNbdClient.REQUEST_MAGIC) {
                    continue;
                }
                int type = w.getShort(i + 6) & 0xffff;
                long offset = w.getLong(i + 16);
                long length = w.getInt(i + 24) & 0xffffffffL;
                boolean modifies = type == 1 || type == 4 || type == 6 || type == 8;
                boolean inVolume = offset >= 0 && offset + length >= offset && offset + length <= volume;
                if (modifies && length > 0 && inVolume && offset + length > FUZZ_END) {
                    return false;
                }
            }
            return true;
        }
    }

    private static void witness(String uri, byte[] pattern, Random r) throws IOException {
        boolean structured = r.nextBoolean();
        try (RawNbdClient c = RawNbdClient.open(uri, EXPORT, structured)) {
            int at = r.nextInt(PATTERN_BYTES / 65536) * 65536;
            byte[] expected = java.util.Arrays.copyOfRange(pattern, at, at + 65536);
            byte[] got = c.read(PATTERN_AT + at, 65536);
            if (!java.util.Arrays.equals(got, expected)) {
                // Tell a wrong reply from wrong data on the members: read it again, on a new connection.
                byte[] again;
                try (RawNbdClient d = RawNbdClient.open(uri, EXPORT, false)) {
                    again = d.read(PATTERN_AT + at, 65536);
                }
                int wrong = 0;
                for (int i = 0; i < got.length; i++) {
                    wrong += got[i] != expected[i] ? 1 : 0;
                }
                throw new AssertionError(String.format("pattern at +%d: %d of 65536 bytes wrong (structured replies: %s);"
                        + " read again on a new connection: %s", at, wrong, structured,
                        java.util.Arrays.equals(again, expected) ? "right" : "still wrong"));
            }
            byte[] mine = new byte[4096];
            r.nextBytes(mine);
            long where = WITNESS_AT + 4096L * r.nextInt(256);
            c.write(where, mine);
            assertThat(c.read(where, 4096)).as("the witness's own block").isEqualTo(mine);
        }
    }

    private static Thread start(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static byte[] garbage(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static void drain(InputStream in) {
        byte[] sink = new byte[65536];
        try {
            while (in.read(sink) >= 0) {
                // replies are not checked here: MalformedTrafficIT checks each answer
            }
        } catch (IOException closed) {
            // the case is over
        }
    }

    private static void quietClose(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing an already broken socket
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long rss(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return 0;
    }

    private static long openFiles(long pid) throws IOException {
        try (var s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return s.count();
        }
    }
}
