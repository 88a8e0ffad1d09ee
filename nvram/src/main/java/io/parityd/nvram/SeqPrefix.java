package io.parityd.nvram;

import java.util.Map;
import java.util.TreeMap;

/**
 * The highest sequence number up to which every number has been marked, with the ranges marked
 * out of order kept aside until the gap below them fills. Requests mark their whole range at once.
 */
final class SeqPrefix {

    private volatile long through;
    private final TreeMap<Long, Long> ahead = new TreeMap<>();

    SeqPrefix(long through) {
        this.through = through;
    }

    /** Marks {@code [first, last]}; returns the prefix after it. */
    synchronized long mark(long first, long last) {
        long t = through;
        if (first > t + 1) {
            ahead.put(first, last);
            return t;
        }
        t = Math.max(t, last);
        for (Map.Entry<Long, Long> e = ahead.firstEntry(); e != null && e.getKey() <= t + 1; e = ahead.firstEntry()) {
            t = Math.max(t, e.getValue());
            ahead.pollFirstEntry();
        }
        through = t;
        return t;
    }

    long through() {
        return through;
    }
}
