package io.parityd.nvram;

import static io.parityd.nvram.Fixture.bytes;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Append throughput and sync latency, printed, not asserted. Run with
 * {@code -Dparityd.bench=true -Dtest=JournalBench}.
 */
@EnabledIfSystemProperty(named = "parityd.bench", matches = "true")
class JournalBench {

    @TempDir
    Path dir;

    @Test
    void appendThroughput() throws Exception {
        run(4096, 20_000, 8);
        run(1 << 20, 200, 8);
        run(4096, 2_000, 1);
    }

    private void run(int size, int count, int threads) throws Exception {
        Fixture f = Fixture.in(dir.resolve(size + "-" + threads)).capacity(256L << 20);
        java.nio.file.Files.createDirectories(f.path().getParent());
        byte[] data = bytes(size, 1);
        try (Journal j = f.open()) {
            long start = System.nanoTime();
            List<Thread> workers = new ArrayList<>();
            for (int w = 0; w < threads; w++) {
                Thread t = new Thread(() -> {
                    try {
                        for (int i = 0; i < count / threads; i++) {
                            j.reserve(size).get();
                            Ticket tk = j.begin(size);
                            j.append(tk, RecordKind.WRITE, 0, size, 0, 0, ByteBuffer.wrap(data));
                            CompletableFuture<Void> d = j.whenDurable(tk.lastSeq());
                            d.get(60, TimeUnit.SECONDS);
                            j.applied(tk);
                            // retire often enough that the room never fills with applied requests:
                            // a caller blocked in reserve must not be the one that would retire
                            if ((i & 63) == 0 || size >= (64 << 10)) {
                                j.retire(j.appliedThrough());
                            }
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                t.start();
                workers.add(t);
            }
            for (Thread t : workers) {
                t.join();
            }
            long nanos = System.nanoTime() - start;
            JournalStats s = j.stats();
            System.out.printf("%d x %d B, %d threads (append + durable + retire): %.0f req/s, %.1f MiB/s;"
                            + " %d syncs (%.1f req/sync), mean sync %.3f ms%n",
                    count, size, threads, count / (nanos / 1e9), (double) count * size / (1 << 20) / (nanos / 1e9),
                    s.syncs(), (double) count / s.syncs(), s.syncNanos() / 1e6 / s.syncs());
        }
        // append alone, no sync wait: the copy into the map
        Fixture nv = Fixture.in(dir.resolve("nv-" + size + "-" + threads)).capacity(256L << 20).nonVolatile();
        java.nio.file.Files.createDirectories(nv.path().getParent());
        try (Journal j = nv.open()) {
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                j.reserve(size).get();
                Ticket tk = j.begin(size);
                j.append(tk, RecordKind.WRITE, 0, size, 0, 0, ByteBuffer.wrap(data));
                j.applied(tk);
                if ((i & 63) == 63) {
                    j.retire(j.appliedThrough());
                }
            }
            long nanos = System.nanoTime() - start;
            System.out.printf("%d x %d B, non-volatile, 1 thread: %.0f req/s, %.1f MiB/s%n", count, size,
                    count / (nanos / 1e9), (double) count * size / (1 << 20) / (nanos / 1e9));
        }
    }
}
