package io.parityd.block;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * An in-memory member with a volatile write cache, for power-loss tests: it keeps a
 * <em>durable image</em> and, per 4 KiB page, the writes since the last {@link #flush()} that did
 * not reach it. Reads show every completed write, as a disk's cache does. What survives a power
 * cut is the test's choice:
 *
 * <ul>
 *   <li>{@link #flush()} makes every write durable; a write or zeroing with {@code fua} is durable
 *       at once (its own bytes only: earlier unsynced writes to the same page stay unsynced).
 *   <li>{@link #powerLoss()} discards every unsynced write: the device then shows the durable
 *       image, the outcome a flush-before-ack protocol must survive.
 *   <li>{@link #powerLoss(Random)} keeps a random subset of them at page granularity, the torn mix
 *       a real disk may leave: each page that had unsynced writes independently ends up as it was
 *       after some prefix of them, chosen uniformly from none to all. A write spanning pages can
 *       therefore survive in some of them and not others, and writes to different pages survive
 *       regardless of their order; but a page never shows a state it never had (a later write to
 *       it without an earlier one), as a disk with atomic 4 KiB sectors guarantees.
 * </ul>
 *
 * After a power loss nothing is unsynced and the device goes on working, as after a reboot.
 * {@link #trim} does nothing, as in the raid tests' MemoryDevice: the least helpful behaviour the
 * contract allows. The size is a whole number of pages. Each call is atomic (one monitor).
 */
public final class PowerLossDevice implements BlockDevice {

    /** The granularity of tearing: one page, the atomic unit of a 4Kn disk and of the page cache. */
    public static final int PAGE = 4096;

    private final String name;
    private final byte[] durable;
    /** By page index, that page's contents after each unsynced write to it, oldest first; never empty. */
    private final Map<Integer, List<byte[]>> unsynced = new TreeMap<>();

    public PowerLossDevice(String name, int size) {
        if (size < 0 || size % PAGE != 0) {
            throw new IllegalArgumentException("size must be a whole number of " + PAGE + "-byte pages: " + size);
        }
        this.name = name;
        this.durable = new byte[size];
    }

    /** Discards every write since the last flush that was not written with FUA. */
    public synchronized void powerLoss() {
        unsynced.clear();
    }

    /**
     * Keeps, in each page with unsynced writes, a prefix of them drawn from {@code random} (one
     * draw per such page, in page order, so a seed repeats the outcome); discards the rest.
     */
    public synchronized void powerLoss(Random random) {
        for (Map.Entry<Integer, List<byte[]>> page : unsynced.entrySet()) {
            List<byte[]> versions = page.getValue();
            int kept = random.nextInt(versions.size() + 1);
            if (kept > 0) {
                System.arraycopy(versions.get(kept - 1), 0, durable, page.getKey() * PAGE, PAGE);
            }
        }
        unsynced.clear();
    }

    /** Pages holding writes that a power loss would discard. */
    public synchronized int unsyncedPages() {
        return unsynced.size();
    }

    /** The durable image of {@code [offset, offset+length)}: what {@link #powerLoss()} would leave. */
    public synchronized byte[] durableSnapshot(int offset, int length) {
        check(offset, length);
        return Arrays.copyOfRange(durable, offset, offset + length);
    }

    @Override
    public String describe() {
        return "power-loss:" + name;
    }

    @Override
    public long size() {
        return durable.length;
    }

    @Override
    public synchronized void read(ByteBuffer dst, long offset) {
        check(offset, dst.remaining());
        long at = offset;
        while (dst.hasRemaining()) {
            int page = (int) (at / PAGE);
            int in = (int) (at % PAGE);
            int n = Math.min(PAGE - in, dst.remaining());
            List<byte[]> versions = unsynced.get(page);
            if (versions == null) {
                dst.put(durable, page * PAGE + in, n);
            } else {
                dst.put(versions.get(versions.size() - 1), in, n);
            }
            at += n;
        }
    }

    @Override
    public synchronized void write(ByteBuffer src, long offset, boolean fua) {
        check(offset, src.remaining());
        byte[] bytes = new byte[src.remaining()];
        src.get(bytes);
        store(bytes, offset, fua);
    }

    @Override
    public synchronized void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) {
        check(offset, length);
        store(new byte[(int) length], offset, fua);
    }

    @Override
    public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
        check(offset, length);
        return true;
    }

    @Override
    public void trim(long offset, long length, boolean fua) {
        check(offset, length);
    }

    @Override
    public synchronized void flush() {
        for (Map.Entry<Integer, List<byte[]>> page : unsynced.entrySet()) {
            List<byte[]> versions = page.getValue();
            System.arraycopy(versions.get(versions.size() - 1), 0, durable, page.getKey() * PAGE, PAGE);
        }
        unsynced.clear();
    }

    @Override
    public void close() {
    }

    /**
     * Unsynced: each touched page gets a new version, its latest contents with these bytes on top.
     * FUA: the bytes go into the durable image and into every version the page still has, since
     * whichever of those survives, this newer durable write is on top of it.
     */
    private void store(byte[] bytes, long offset, boolean fua) {
        int done = 0;
        while (done < bytes.length) {
            long at = offset + done;
            int page = (int) (at / PAGE);
            int in = (int) (at % PAGE);
            int n = Math.min(PAGE - in, bytes.length - done);
            List<byte[]> versions = unsynced.get(page);
            if (fua) {
                System.arraycopy(bytes, done, durable, page * PAGE + in, n);
                for (byte[] version : versions == null ? List.<byte[]>of() : versions) {
                    System.arraycopy(bytes, done, version, in, n);
                }
            } else {
                byte[] next = versions == null ? Arrays.copyOfRange(durable, page * PAGE, (page + 1) * PAGE)
                        : versions.get(versions.size() - 1).clone();
                System.arraycopy(bytes, done, next, in, n);
                unsynced.computeIfAbsent(page, p -> new ArrayList<>()).add(next);
            }
            done += n;
        }
    }

    private void check(long offset, long length) {
        if (offset < 0 || length < 0 || offset > durable.length - length) {
            throw new IllegalArgumentException("range [" + offset + ", +" + length + ") outside " + durable.length);
        }
    }
}
