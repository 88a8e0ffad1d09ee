package io.parityd.front;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many NBD connections the front serves at once ({@code --max-connections}), and what happens
 * to the one past that: it is <em>refused</em>, greeted and told why on every option
 * ({@code NBD_REP_ERR_POLICY}, as proto.md says a server tells a client it is unwelcome) until it
 * leaves or its handshake time runs out. Refusals under way are bounded too: with as many of them open as connections served, a
 * further one is <em>dropped</em>, closed before a byte is sent, so the descriptors the front can
 * hold stay at twice the limit whatever a flood of connections does.
 *
 * <p>A plain policy: the server asks {@link #admit()} for each accepted connection and hands the
 * verdict back to {@link #release} when it closes. Thread-safe; called from every event loop.
 */
final class ConnectionLimit {

    /** What becomes of one accepted connection. */
    enum Verdict { SERVE, REFUSE, DROP }

    private final int max;
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicInteger refusing = new AtomicInteger();

    ConnectionLimit(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("the connection limit must be at least 1: " + max);
        }
        this.max = max;
    }

    int max() {
        return max;
    }

    /** The verdict for a connection just accepted; counted until {@link #release} gets it back. */
    Verdict admit() {
        if (take(served)) {
            return Verdict.SERVE;
        }
        return take(refusing) ? Verdict.REFUSE : Verdict.DROP;
    }

    /** A connection admitted with {@code verdict} has closed. */
    void release(Verdict verdict) {
        switch (verdict) {
            case SERVE -> served.decrementAndGet();
            case REFUSE -> refusing.decrementAndGet();
            case DROP -> { }
        }
    }

    int served() {
        return served.get();
    }

    int refusing() {
        return refusing.get();
    }

    /** One more in {@code count} if it is under the limit. */
    private boolean take(AtomicInteger count) {
        for (int now = count.get(); now < max; now = count.get()) {
            if (count.compareAndSet(now, now + 1)) {
                return true;
            }
        }
        return false;
    }
}
