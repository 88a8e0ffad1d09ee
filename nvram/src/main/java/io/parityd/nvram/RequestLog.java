package io.parityd.nvram;

import java.util.ArrayList;
import java.util.List;

/**
 * The requests the journal holds, in sequence order, with the room each takes: what {@link
 * Journal#retire} removes and releases. Filled by {@link Journal#begin} (which hands out sequence
 * numbers in order) and by recovery; emptied from the front. A ring of primitive arrays, so a
 * request costs no allocation.
 */
final class RequestLog {

    /** What retiring through a sequence number takes away. */
    record Cut(long through, long bytes, long records, int requests) {
    }

    private long[] firstSeqs = new long[1024];
    private long[] lastSeqs = new long[1024];
    private int[] bytes = new int[1024];
    private boolean[] voids = new boolean[1024];
    private int head;
    private int size;
    private long nextSeq;

    RequestLog(long nextSeq) {
        this.nextSeq = nextSeq;
    }

    /** Hands a new request of {@code pieces} its sequence numbers, the next ones in order; returns the first. */
    synchronized long begin(int pieces, int dataBytes) {
        long first = nextSeq;
        nextSeq += pieces;
        add(first, first + pieces - 1, dataBytes, false);
        return first;
    }

    synchronized void add(long firstSeq, long lastSeq, int dataBytes, boolean isVoid) {
        if (size == firstSeqs.length) {
            grow();
        }
        int i = (head + size) % firstSeqs.length;
        firstSeqs[i] = firstSeq;
        lastSeqs[i] = lastSeq;
        bytes[i] = dataBytes;
        voids[i] = isVoid;
        size++;
    }

    /**
     * What retiring through {@code seq} would take: whole requests ending at or below it, then any
     * VOID records right after them (they were never requests, nothing waits for them).
     * {@code through} is {@code floor} when nothing would go.
     */
    synchronized Cut peek(long seq, long floor) {
        long through = floor;
        long total = 0;
        long records = 0;
        int n = 0;
        for (; n < size; n++) {
            int i = (head + n) % firstSeqs.length;
            boolean take = lastSeqs[i] <= seq || (voids[i] && n > 0 && firstSeqs[i] == through + 1);
            if (!take) {
                break;
            }
            through = lastSeqs[i];
            total += bytes[i];
            records += lastSeqs[i] - firstSeqs[i] + 1;
        }
        return new Cut(through, total, records, n);
    }

    /** The requests held now (VOID records left out), in sequence order, as {first, last} pairs. */
    synchronized List<long[]> held() {
        List<long[]> out = new ArrayList<>(size);
        for (int n = 0; n < size; n++) {
            int i = (head + n) % firstSeqs.length;
            if (!voids[i]) {
                out.add(new long[] {firstSeqs[i], lastSeqs[i]});
            }
        }
        return out;
    }

    synchronized void pop(Cut cut) {
        head = (head + cut.requests()) % firstSeqs.length;
        size -= cut.requests();
    }

    private void grow() {
        int n = firstSeqs.length;
        long[] f = new long[n * 2];
        long[] l = new long[n * 2];
        int[] b = new int[n * 2];
        boolean[] v = new boolean[n * 2];
        for (int k = 0; k < size; k++) {
            int i = (head + k) % n;
            f[k] = firstSeqs[i];
            l[k] = lastSeqs[i];
            b[k] = bytes[i];
            v[k] = voids[i];
        }
        firstSeqs = f;
        lastSeqs = l;
        bytes = b;
        voids = v;
        head = 0;
    }
}
