package io.parityd.service;

import io.netty.channel.Channel;
import io.parityd.link.Request;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Orders a primary's work across the front's links. The front's link can be replaced while
 * requests it brought are still running here: the front restarted, or dropped this controller and
 * dialled again. Those requests were never answered, so their sender either died or resends them
 * on the new link. Two rules keep a stale request from landing after a newer one:
 * <ul>
 *   <li>A request of the new link starts only once every request of the older links has finished.
 *       Otherwise an old write that was still waiting (for its stripe, for the standby) could land
 *       after the new link read those blocks or wrote them again, and a block would go back to an
 *       unacknowledged version after the front had shown it a newer one.</li>
 *   <li>A request that arrives on an older link once a newer link has sent one is dropped
 *       unanswered: nobody waits for its answer, and a front that is still alive resends it.</li>
 * </ul>
 * Links are numbered in the order they were established. Held requests start, in the order they
 * came, on their link's event loop.
 *
 * <p><b>Buffers.</b> A request (a WRITE holds its payload) handed to {@link #submit} is this
 * object's until it starts it, when the runner takes it over, or drops it, releasing it here:
 * a late or replaced link's, and whatever is held when the primary stops ({@link #dropHeld}).
 */
final class FrontLinkOrder {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FrontLinkOrder.class);

    /** Starts a request; it must call {@link #finished} once it is answered, however it ends. */
    interface Runner {
        void run(Channel front, long link, Request request);
    }

    private record Held(Channel front, long link, Request request) { }

    private final Runner runner;
    /** The newest link a request came on. */
    private long current = Long.MIN_VALUE;
    /** Started requests of the current link not yet finished. */
    private int running;
    /** Started requests of older links not yet finished. */
    private int olderRunning;
    /** Requests of the current link waiting for the older links' to finish, in arrival order. */
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private boolean startScheduled;

    FrontLinkOrder(Runner runner) {
        this.runner = runner;
    }

    /**
     * Starts {@code request} now, later, or never (dropped and released, if it came on a link that
     * a newer one replaced). Takes ownership of the request.
     */
    void submit(Channel front, long link, Request request) {
        List<Held> dropped = List.of();
        boolean now;
        int waitFor = 0;
        boolean late = false;
        synchronized (this) {
            if (link < current) {
                late = true;
                dropped = List.of(new Held(front, link, request));
                now = false;
            } else {
                if (link > current) {
                    current = link;
                    olderRunning += running;
                    running = 0;
                    // Held requests belong to the link just replaced: never started, so dropped too.
                    dropped = new ArrayList<>(held);
                    held.clear();
                    waitFor = olderRunning;
                }
                now = olderRunning == 0 && held.isEmpty();
                if (now) {
                    running++;
                } else {
                    held.add(new Held(front, link, request));
                }
            }
        }
        dropped.forEach(h -> h.request().release());
        if (late) {
            log.debug("a request on the front's replaced link {} dropped unanswered", link);
        } else if (waitFor > 0 || !dropped.isEmpty()) {
            log.info("the front's link {}: its requests wait for {} of older links to finish; {} of older links dropped"
                    + " unanswered (the front resends what it still needs)", link, waitFor, dropped.size());
        }
        if (now) {
            runner.run(front, link, request);
        }
    }

    /** A request of {@code link} was answered (or failed). */
    void finished(long link) {
        Channel wake = null;
        synchronized (this) {
            if (link == current) {
                running--;
            } else {
                olderRunning--;
            }
            if (olderRunning == 0 && !held.isEmpty() && !startScheduled) {
                startScheduled = true;
                wake = held.peek().front();
            }
        }
        if (wake != null) {
            wake.eventLoop().execute(this::startHeld);
        }
    }

    /** Starts every held request, on its link's event loop (where new ones arrive, so order holds). */
    private void startHeld() {
        List<Held> start;
        Channel elsewhere = null;
        synchronized (this) {
            if (olderRunning > 0 || held.isEmpty()) {
                startScheduled = false;
                return; // a newer link came meanwhile: its requests wait again
            }
            if (held.peek().front().eventLoop().inEventLoop()) {
                startScheduled = false;
                start = new ArrayList<>(held);
                held.clear();
                running += start.size();
            } else {
                start = List.of();
                elsewhere = held.peek().front(); // a newer link's requests now: start them on its loop
            }
        }
        if (elsewhere != null) {
            elsewhere.eventLoop().execute(this::startHeld);
        }
        start.forEach(h -> runner.run(h.front(), h.link(), h.request()));
    }

    /** The primary stops: held requests will never start; they are released unanswered. */
    void dropHeld() {
        List<Held> dropped;
        synchronized (this) {
            dropped = new ArrayList<>(held);
            held.clear();
        }
        dropped.forEach(h -> h.request().release());
    }

    /** For tests and status: requests waiting for older links to finish. */
    synchronized int held() {
        return held.size();
    }
}
