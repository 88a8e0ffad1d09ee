package io.parityd.member;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Measures the three ways a regular-file member could move data, to choose {@link FileMember}'s
 * path (DESIGN.md, "RAID": "files may use FileChannel or the same path — measure and choose"):
 * positional {@link FileChannel}; {@link NativeIo} {@code pread}/{@code pwrite} through the page
 * cache; and {@link NativeIo} with {@code O_DIRECT}. Workloads: 4 KiB random and 64 KiB / 1 MiB
 * sequential writes and reads, from 4096-aligned direct buffers, at 1 and 8 threads, with the
 * file's page cache warm (every page resident) and cold (evicted with
 * {@code dd oflag=nocache count=0}); O_DIRECT bypasses the cache, so it runs once.
 *
 * <p>Writes report two rates: <em>ack</em>, until the last write returned (what a client sees
 * for writes without FUA), and <em>durable</em>, including the final {@code fdatasync} (what a
 * FLUSH costs). Each cell is the median of {@code --repeat} runs. {@code --heap} uses heap
 * buffers instead (both buffered ways copy them; O_DIRECT cannot take them). Not a test: nothing here runs
 * in the suite. Run it (as any user that may write the directory) with:
 *
 * <pre>
 * mvn -q -pl daemon -am test-compile dependency:build-classpath -Dmdep.outputFile=target/runtime.classpath
 * java -cp daemon/target/test-classes:daemon/target/classes:$(cat daemon/target/runtime.classpath) \
 *     io.parityd.member.FileIoPathBench --dir /var/tmp --size-mib 1024 --repeat 3
 * </pre>
 *
 * It needs {@code --size-mib} of free space in {@code --dir} (keep it on the disk you mean to
 * measure: not tmpfs, which has no O_DIRECT) and deletes its file at the end.
 */
public final class FileIoPathBench {

    enum Way { FILE_CHANNEL, NATIVE_BUFFERED, NATIVE_DIRECT }

    enum Workload {
        RAND_WRITE_4K(4096, true, true), RAND_READ_4K(4096, true, false),
        SEQ_WRITE_64K(64 << 10, false, true), SEQ_READ_64K(64 << 10, false, false),
        SEQ_WRITE_1M(1 << 20, false, true), SEQ_READ_1M(1 << 20, false, false);

        final int block;
        final boolean random;
        final boolean write;

        Workload(int block, boolean random, boolean write) {
            this.block = block;
            this.random = random;
            this.write = write;
        }

        String label() {
            return (random ? "random " : "sequential ") + (write ? "write " : "read ")
                    + (block >= 1 << 20 ? (block >> 20) + " MiB" : (block >> 10) + " KiB");
        }
    }

    enum Cache { WARM, COLD, BYPASSED }

    /** One run's figures: bytes moved and nanoseconds until the last I/O returned and until durable. */
    record Figures(long bytes, long ackNanos, long durableNanos) {
        double ackMbps() {
            return bytes / 1e6 / (ackNanos / 1e9);
        }

        double durableMbps() {
            return bytes / 1e6 / (durableNanos / 1e9);
        }
    }

    /** The I/O calls each way offers, so the workers are the same code for all three. */
    private interface Io extends Closeable {
        int read(ByteBuffer dst, long offset) throws IOException;

        int write(ByteBuffer src, long offset) throws IOException;

        void sync() throws IOException;
    }

    private final Path file;
    private final long size;
    private final int repeat;
    private final long randomBytes;
    private final boolean heap;

    private FileIoPathBench(Path file, long size, int repeat, long randomBytes, boolean heap) {
        this.file = file;
        this.size = size;
        this.repeat = repeat;
        this.randomBytes = randomBytes;
        this.heap = heap;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(option(args, "--dir", "/var/tmp"));
        long size = Long.parseLong(option(args, "--size-mib", "1024")) << 20;
        int repeat = Integer.parseInt(option(args, "--repeat", "3"));
        long randomBytes = Long.parseLong(option(args, "--random-mib", "128")) << 20;
        int[] threads = Arrays.stream(option(args, "--threads", "1,8").split(",")).mapToInt(Integer::parseInt).toArray();
        boolean heap = Arrays.asList(args).contains("--heap");
        Path file = Files.createTempFile(dir, "parityd-bench-", ".img");
        try {
            FileIoPathBench bench = new FileIoPathBench(file, size, repeat, randomBytes, heap);
            bench.fill();
            System.out.printf(Locale.ROOT, "# %s on %s (%s), %d MiB file, %d MiB per random run, %s buffers, median of %d%n",
                    file, Files.getFileStore(file).name(), Files.getFileStore(file).type(), size >> 20,
                    randomBytes >> 20, heap ? "heap" : "direct", repeat);
            bench.warmUp();
            bench.table(threads);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Prints one markdown row per workload, thread count and cache state. */
    private void table(int[] threadCounts) throws Exception {
        System.out.println("| workload | threads | cache | FileChannel | NativeIo buffered | NativeIo O_DIRECT |");
        System.out.println("|---|---|---|---|---|---|");
        for (Workload workload : Workload.values()) {
            for (int threads : threadCounts) {
                // O_DIRECT takes no heap buffers (EINVAL): a heap run has no such column.
                Figures direct = heap ? null : median(Way.NATIVE_DIRECT, workload, threads, Cache.BYPASSED);
                for (Cache cache : new Cache[] {Cache.WARM, Cache.COLD}) {
                    Figures channel = median(Way.FILE_CHANNEL, workload, threads, cache);
                    Figures buffered = median(Way.NATIVE_BUFFERED, workload, threads, cache);
                    System.out.printf(Locale.ROOT, "| %s | %d | %s | %s | %s | %s |%n", workload.label(), threads,
                            cache.name().toLowerCase(Locale.ROOT), cell(workload, channel), cell(workload, buffered),
                            cell(workload, direct));
                }
            }
        }
    }

    private Figures median(Way way, Workload workload, int threads, Cache cache) throws Exception {
        List<Figures> runs = new ArrayList<>();
        for (int i = 0; i < repeat; i++) {
            runs.add(run(way, workload, threads, cache, i));
        }
        runs.sort((a, b) -> Long.compare(a.durableNanos(), b.durableNanos()));
        return runs.get(runs.size() / 2);
    }

    private Figures run(Way way, Workload workload, int threads, Cache cache, int round) throws Exception {
        if (cache == Cache.WARM) {
            readWhole();
        } else {
            evict();
        }
        long perThread = workload.random ? randomBytes / threads : size / threads / workload.block * workload.block;
        try (Io io = open(way)) {
            List<Thread> workers = new ArrayList<>();
            CountDownLatch start = new CountDownLatch(1);
            Throwable[] failure = new Throwable[1];
            for (int t = 0; t < threads; t++) {
                int index = t;
                ByteBuffer buffer = heap ? ByteBuffer.allocate(workload.block) : NativeIo.alignedBuffer(workload.block);
                fillRandom(buffer, index);
                workers.add(new Thread(() -> {
                    try {
                        start.await();
                        work(io, workload, buffer, index, perThread, round);
                    } catch (Throwable e) {
                        synchronized (failure) {
                            failure[0] = e;
                        }
                    }
                }, "bench-" + t));
            }
            workers.forEach(Thread::start);
            long begin = System.nanoTime();
            start.countDown();
            for (Thread worker : workers) {
                worker.join(TimeUnit.MINUTES.toMillis(10));
            }
            long acked = System.nanoTime();
            if (failure[0] != null) {
                throw new IOException(way + " " + workload + " failed", failure[0]);
            }
            if (workload.write) {
                io.sync();
            }
            long durable = System.nanoTime();
            return new Figures(perThread * threads, acked - begin, durable - begin);
        }
    }

    /** One thread's share: random blocks anywhere, or its own contiguous slice in order. */
    private void work(Io io, Workload workload, ByteBuffer buffer, int index, long bytes, int round) throws IOException {
        long blocks = bytes / workload.block;
        long slice = index * bytes;
        SplittableRandom random = new SplittableRandom(31L * index + round);
        long blocksInFile = size / workload.block;
        for (long i = 0; i < blocks; i++) {
            long offset = workload.random ? random.nextLong(blocksInFile) * workload.block : slice + i * workload.block;
            buffer.clear();
            while (buffer.hasRemaining()) {
                int position = buffer.position();
                int n = workload.write ? io.write(buffer, offset + position) : io.read(buffer, offset + position);
                if (n <= 0) {
                    throw new IOException("no progress at " + (offset + position));
                }
            }
        }
    }

    private Io open(Way way) throws IOException {
        return switch (way) {
            case FILE_CHANNEL -> channelIo(FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE));
            case NATIVE_BUFFERED -> nativeIo(NativeIo.open(file, NativeIo.O_RDWR | NativeIo.O_CLOEXEC, 0));
            case NATIVE_DIRECT -> nativeIo(NativeIo.open(file, NativeIo.O_RDWR | NativeIo.O_DIRECT | NativeIo.O_CLOEXEC, 0));
        };
    }

    private static Io channelIo(FileChannel channel) {
        return new Io() {
            @Override
            public int read(ByteBuffer dst, long offset) throws IOException {
                return channel.read(dst, offset);
            }

            @Override
            public int write(ByteBuffer src, long offset) throws IOException {
                return channel.write(src, offset);
            }

            @Override
            public void sync() throws IOException {
                channel.force(false);
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }

    private static Io nativeIo(NativeIo io) {
        return new Io() {
            @Override
            public int read(ByteBuffer dst, long offset) throws IOException {
                return io.pread(dst, offset);
            }

            @Override
            public int write(ByteBuffer src, long offset) throws IOException {
                return io.pwrite(src, offset);
            }

            @Override
            public void sync() throws IOException {
                io.fdatasync();
            }

            @Override
            public void close() throws IOException {
                io.close();
            }
        };
    }

    /** Writes every block once, so later writes overwrite allocated blocks as a member's do. */
    private void fill() throws IOException {
        ByteBuffer chunk = NativeIo.alignedBuffer(1 << 20);
        fillRandom(chunk, -1);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            for (long at = 0; at < size; at += chunk.capacity()) {
                chunk.clear();
                while (chunk.hasRemaining()) {
                    channel.write(chunk, at + chunk.position());
                }
            }
            channel.force(false);
        }
    }

    /** A short pass of every way and workload so the JIT has compiled the loops before timing. */
    private void warmUp() throws Exception {
        FileIoPathBench small = new FileIoPathBench(file, Math.min(size, 64L << 20), 1, 8L << 20, heap);
        for (Way way : ways()) {
            for (Workload workload : Workload.values()) {
                small.run(way, workload, 2, Cache.WARM, 0);
            }
        }
    }

    private void readWhole() throws IOException {
        ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            for (long at = 0; at < size; at += chunk.capacity()) {
                chunk.clear();
                channel.read(chunk, at);
            }
        }
    }

    /** Drops this file's clean pages (and only this file's) from the page cache. */
    private void evict() throws IOException, InterruptedException {
        Process dd = new ProcessBuilder("dd", "if=/dev/null", "of=" + file, "oflag=nocache", "conv=notrunc,fdatasync",
                "count=0", "status=none").inheritIO().start();
        if (!dd.waitFor(5, TimeUnit.MINUTES) || dd.exitValue() != 0) {
            throw new IOException("dd could not evict " + file + " from the page cache");
        }
    }

    private static void fillRandom(ByteBuffer buffer, int seed) {
        byte[] bytes = new byte[buffer.capacity()];
        new SplittableRandom(seed).nextBytes(bytes);
        buffer.clear().put(bytes).clear();
    }

    private List<Way> ways() {
        return heap ? List.of(Way.FILE_CHANNEL, Way.NATIVE_BUFFERED) : List.of(Way.values());
    }

    private static String cell(Workload workload, Figures f) {
        if (f == null) {
            return "n/a";
        }
        if (!workload.write) {
            return workload.random ? String.format(Locale.ROOT, "%.0f MB/s (%.1fk IOPS)", f.ackMbps(), iops(workload, f, false))
                    : String.format(Locale.ROOT, "%.0f MB/s", f.ackMbps());
        }
        String durable = String.format(Locale.ROOT, "%.0f", f.durableMbps());
        return workload.random
                ? String.format(Locale.ROOT, "%.0f / %s MB/s (%.1fk / %.1fk IOPS)", f.ackMbps(), durable,
                        iops(workload, f, false), iops(workload, f, true))
                : String.format(Locale.ROOT, "%.0f / %s MB/s", f.ackMbps(), durable);
    }

    private static double iops(Workload workload, Figures f, boolean durable) {
        return f.bytes() / (double) workload.block / ((durable ? f.durableNanos() : f.ackNanos()) / 1e9) / 1000;
    }

    private static String option(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }
}
