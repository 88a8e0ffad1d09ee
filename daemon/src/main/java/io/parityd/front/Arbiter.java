package io.parityd.front;

import io.parityd.controller.Role;
import io.parityd.link.ArrayInfo;
import io.parityd.link.Assign;
import io.parityd.link.Assigned;
import io.parityd.link.Heartbeat;
import io.parityd.link.Hello;
import io.parityd.link.LinkMessage;
import io.parityd.link.PeerLost;
import io.parityd.link.Reply;
import io.parityd.replication.Links;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front as arbiter of the controller pair (DESIGN.md "Failover and fencing"): it decides who
 * is primary, and nothing else does. All of its state lives on one thread ({@code
 * parityd-arbiter}); links report to it, and it ticks every {@link #TICK}.
 *
 * <ul>
 *   <li><b>Start, or a restarted front:</b> a controller that says it is PRIMARY at the highest
 *       epoch is adopted as it is. Otherwise a controller in sync at the array's epoch is promoted
 *       at {@code epoch + 1} (one that is not current never is: its promotion would be refused
 *       anyway, under the members' locks).</li>
 *   <li><b>Primary silent</b> for longer than the lease, or its link closed: requests stop going
 *       out and clients stall; the old primary is fenced ({@link Fencer}); then the standby, if it
 *       is in sync, is promoted at {@code epoch + 1}, and every unanswered request is sent to it.
 *       Without a successful fence nobody is promoted.</li>
 *   <li><b>Standby lost</b> (its link, or the primary says it stopped acknowledging): the primary is
 *       told to go on alone at {@code epoch + 1}, which makes the standby outdated.</li>
 *   <li><b>A controller that is up and has no role</b> while a primary serves is made standby:
 *       it copies the primary's journal, and is promotable only once it says it is in sync.</li>
 * </ul>
 */
final class Arbiter implements ControllerLink.Listener, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Arbiter.class);
    static final Duration TICK = Duration.ofMillis(50);
    private static final Duration HEARTBEAT = Duration.ofMillis(100);
    private static final Duration ROLE_TIMEOUT = Duration.ofSeconds(30);
    /** How long a controller on this host whose link closed gets to exit before it is killed (Fencer). */
    private static final Duration EXIT_GRACE = Duration.ofSeconds(1);
    /**
     * A controller that is not primary may be silent this many leases before the front drops it.
     * Clients wait only on the primary, whose silence is measured by the lease itself; a standby
     * whose silence holds writes back is reported by the primary within a lease ({@code PeerLost}).
     * A joining standby is often briefly silent (a cold JVM copying the journal on a loaded
     * host), and dropping it only starts its copy over.
     */
    static final int NON_PRIMARY_SILENCE_LEASES = 4;
    /** How long a starting front waits to hear from every controller before it promotes one. */
    private static final Duration STARTUP_GRACE = Duration.ofSeconds(2);

    /** What the front knows of one controller. */
    enum State { DOWN, UP, PROMOTING, PRIMARY, SYNCING, STANDBY }

    private static final class Slot {
        final ControllerLink link;
        State state = State.DOWN;
        Hello hello;
        long since;

        Slot(ControllerLink link) {
            this.link = link;
        }

        String id() {
            return link.name();
        }
    }

    private final ScheduledExecutorService thread;
    private final ClusterController cluster;
    private final Fencer fencer;
    private final Duration lease;
    private final List<Slot> slots = new ArrayList<>();
    private final Consumer<ArrayInfo> arrayInfo;
    private long epoch;
    private Slot primary;
    /** The primary given up on, until it is fenced; nobody is promoted before. */
    private Hello toFence;
    private boolean fencing;
    private boolean goingAlone;
    private long lastHeartbeat;
    private final long startedNanos = System.nanoTime();
    /** Whether a primary has served through this front yet. */
    private boolean served;
    private int failovers;
    /** The failover under way, if any: when each of its steps happened (for the log and the histogram). */
    private FailoverClock failover;
    private volatile Consumer<Duration> failoverObserver = d -> { };

    /**
     * The steps of one failover, by {@code System.nanoTime}: the stall a client sees runs from
     * the moment the old primary was last heard to the moment the new one serves.
     */
    private static final class FailoverClock {
        final String from;
        final String why;
        final long lastHeard;
        final long detected;
        long fenced;
        long asked;

        FailoverClock(String from, String why, long lastHeard, long detected) {
            this.from = from;
            this.why = why;
            this.lastHeard = lastHeard;
            this.detected = detected;
        }

        static long ms(long from, long to) {
            return from == 0 || to == 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(to - from);
        }
    }

    Arbiter(ClusterController cluster, Fencer fencer, Duration lease, Consumer<ArrayInfo> arrayInfo) {
        this.cluster = cluster;
        this.fencer = fencer;
        this.lease = lease;
        this.arrayInfo = arrayInfo;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "parityd-arbiter");
            t.setDaemon(true);
            return t;
        });
    }

    /** Adds a controller (before {@link #start}). */
    void add(ControllerLink link) {
        slots.add(new Slot(link));
    }

    /** Told how long each failover stalled clients (from the old primary's last word to the new one serving). */
    void onFailover(Consumer<Duration> observer) {
        failoverObserver = observer;
    }

    void start() {
        thread.scheduleWithFixedDelay(this::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
        slots.forEach(s -> s.link.start());
    }

    // ---- what the links report (their event loops) ----------------------------------------------

    @Override
    public void up(ControllerLink link, Hello hello) {
        thread.execute(() -> onUp(slot(link), hello));
    }

    @Override
    public void message(ControllerLink link, LinkMessage m) {
        if (m instanceof Reply r) {
            cluster.answered(link, r); // no thread hop on the data path
            return;
        }
        thread.execute(() -> onMessage(slot(link), m));
    }

    @Override
    public void down(ControllerLink link, String why) {
        thread.execute(() -> onDown(slot(link), why));
    }

    private Slot slot(ControllerLink link) {
        for (Slot s : slots) {
            if (s.link == link) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown link " + link.name());
    }

    // ---- decisions (arbiter thread) ---------------------------------------------------------------

    private void onUp(Slot s, Hello hello) {
        s.hello = hello;
        cluster.seqAbove(hello.highestSeq());
        s.state = State.UP;
        s.since = System.nanoTime();
        epoch = Math.max(epoch, hello.epoch());
        if (hello.role() == Role.PRIMARY.code()) {
            boolean waitedFor = toFence != null && !fencing && sameProcess(toFence, hello);
            if (primary == null && (toFence == null || waitedFor) && hello.epoch() >= epoch) {
                if (waitedFor) {
                    log.info("front: primary {} answers again; nobody replaced it, so it serves on", s.id());
                    toFence = null;
                }
                adopt(s);
            } else if (primary != s) {
                // A primary of an older epoch (it was paused or cut off while the other took over):
                // it must not write; fencing it is what makes sure.
                log.warn("front: controller {} claims PRIMARY at epoch {}, but {}; fencing it", s.id(), hello.epoch(),
                        primary != null ? "controller " + primary.id() + " is primary" : "the epoch is " + epoch);
                fenceAsync(hello);
            }
        }
    }

    private void adopt(Slot s) {
        s.state = State.PRIMARY;
        primary = s;
        served = true;
        log.info("front: controller {} is primary at epoch {} (found serving)", s.id(), s.hello.epoch());
        failedOver(s, cluster.primaryIs(s.link));
    }

    private void onDown(Slot s, String why) {
        State was = s.state;
        s.state = State.DOWN;
        if (s == primary) {
            failover("its link is gone (" + why + ")", why.equals("link closed"));
        } else if (was == State.STANDBY) {
            log.warn("front: lost standby {} ({})", s.id(), why);
            standbyLost(s);
        } else if (was == State.SYNCING) {
            // It recorded itself behind before copying: never promotable, so no epoch to raise.
            log.warn("front: lost controller {} while it was joining as standby ({})", s.id(), why);
        }
    }

    private void onMessage(Slot s, LinkMessage m) {
        if (m instanceof Heartbeat h) {
            epoch = Math.max(epoch, h.epoch());
        } else if (m instanceof Assigned a) {
            assigned(s, a);
        } else if (m instanceof PeerLost p) {
            if (s == primary) {
                log.warn("front: primary {} reports its standby: {}", s.id(), p.detail());
                for (Slot other : slots) {
                    if (other != s && (other.state == State.STANDBY || other.state == State.SYNCING)) {
                        other.state = State.UP; // outdated once the epoch rises; it rejoins with a copy
                        other.link.drop();
                    }
                }
                goAlone();
            }
        } else if (m instanceof ArrayInfo info) {
            arrayInfo.accept(info);
        } else {
            ReferenceCountUtil.release(m);
        }
    }

    private void assigned(Slot s, Assigned a) {
        if (!a.detail().isEmpty()) {
            log.error("front: controller {} could not take its role: {}", s.id(), a.detail());
            if (s.state == State.SYNCING) {
            }
            if (s.state == State.PROMOTING || s.state == State.SYNCING) {
                s.state = State.UP;
            }
            if (s == primary) {
                goingAlone = false;
            }
            return;
        }
        epoch = Math.max(epoch, a.epoch());
        if (s.state == State.PROMOTING && a.role() == Role.PRIMARY.code()) {
            s.state = State.PRIMARY;
            primary = s;
            served = true;
            log.info("front: controller {} is PRIMARY at epoch {} ({} ms after it was asked)", s.id(), a.epoch(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - s.since));
            int resent = cluster.primaryIs(s.link);
            failedOver(s, resent);
        } else if (s == primary && a.role() == Role.PRIMARY.code()) {
            goingAlone = false;
            log.warn("front: primary {} goes on without a standby at epoch {}", s.id(), a.epoch());
        } else if (s.state == State.SYNCING && a.role() == Role.STANDBY.code()) {
            s.state = State.STANDBY;
            log.info("front: controller {} is STANDBY, in sync at epoch {}", s.id(), a.epoch());
        }
    }

    private void tick() {
        try {
            long now = System.nanoTime();
            for (Slot s : slots) {
                long allowed = s == primary ? lease.toNanos() : lease.toNanos() * NON_PRIMARY_SILENCE_LEASES;
                if (s.link.connected() && now - s.link.lastHeardNanos() > allowed) {
                    log.warn("front: controller {} silent for {} ms ({} {} ms)", s.id(),
                            TimeUnit.NANOSECONDS.toMillis(now - s.link.lastHeardNanos()),
                            s == primary ? "lease" : "allowed a controller that is not primary",
                            TimeUnit.NANOSECONDS.toMillis(allowed));
                    s.link.drop();
                    onDown(s, s == primary ? "silent past its lease" : "silent for " + NON_PRIMARY_SILENCE_LEASES
                            + " leases");
                }
            }
            if (now - lastHeartbeat >= HEARTBEAT.toNanos()) {
                lastHeartbeat = now;
                for (Slot s : slots) {
                    // Only once its Hello was taken in here: before, this front's epoch may still be 0.
                    if (s.link.connected() && s.state != State.DOWN && epoch > 0) {
                        s.link.tell(new Heartbeat(now, 0, epoch, s.state == State.PRIMARY ? Role.PRIMARY.code() : 0,
                                cluster.nextSeq(), lease.toMillis()));
                    }
                }
            }
            timeOutRoles(now);
            if (primary == null) {
                choosePrimary();
            } else {
                attachStandbys(now);
            }
        } catch (RuntimeException e) {
            log.error("front: arbiter tick failed", e);
        }
    }

    private void timeOutRoles(long now) {
        for (Slot s : slots) {
            if ((s.state == State.PROMOTING || s.state == State.SYNCING) && now - s.since > ROLE_TIMEOUT.toNanos()) {
                log.error("front: controller {} did not finish becoming {} within {} s; asking again", s.id(),
                        s.state == State.PROMOTING ? "primary" : "standby", ROLE_TIMEOUT.toSeconds());
                if (s.state == State.SYNCING) {
                }
                s.state = State.UP;
            }
        }
    }

    /**
     * No primary: promote the best current controller, once the last primary is fenced. A front
     * that has not served yet first hears from every controller (or waits {@link #STARTUP_GRACE}):
     * the one it has not heard from may be a primary still serving, found by a restarted front.
     */
    private void choosePrimary() {
        if (fencing) {
            return;
        }
        if (toFence != null) {
            // A lost primary nobody could replace: fence it only once someone can take over.
            if (candidate().isPresent()) {
                log.warn("front: controller {} can take over now; fencing the lost primary {}", candidate().get().id(),
                        toFence.nodeId());
                fenceAsync(toFence);
            }
            return;
        }
        if (!served && slots.stream().anyMatch(s -> s.hello == null)
                && System.nanoTime() - startedNanos < STARTUP_GRACE.toNanos()) {
            return;
        }
        for (Slot s : slots) {
            if (s.state == State.PROMOTING) {
                return;
            }
        }
        Optional<Slot> candidate = candidate();
        if (candidate.isEmpty()) {
            return;
        }
        Slot s = candidate.get();
        s.state = State.PROMOTING;
        s.since = System.nanoTime();
        if (failover != null) {
            failover.asked = s.since;
        }
        log.info("front: promoting controller {} to primary at epoch {}", s.id(), epoch + 1);
        s.link.tell(new Assign(epoch + 1, Role.PRIMARY.code(), "", 0));
    }

    /** The controller to promote: an in-sync standby first, else one that is up and current; by id. */
    private Optional<Slot> candidate() {
        return slots.stream()
                .filter(s -> s.state == State.STANDBY
                        || (s.state == State.UP && s.hello != null && s.hello.inSyncEpoch() >= epoch))
                .min(Comparator.comparing((Slot s) -> s.state == State.STANDBY ? 0 : 1).thenComparing(Slot::id));
    }

    private static boolean sameProcess(Hello a, Hello b) {
        return a.nodeId().equals(b.nodeId()) && a.pid() == b.pid() && a.bootId().equals(b.bootId());
    }

    /** A primary serves: every other controller that is up without a role joins it as standby. */
    private void attachStandbys(long now) {
        if (goingAlone) {
            return;
        }
        for (Slot s : slots) {
            if (s == primary || s.state != State.UP || !s.link.connected()) {
                continue;
            }
            if (slots.stream().anyMatch(o -> o.state == State.SYNCING || o.state == State.STANDBY)) {
                return; // a pair has one standby
            }
            s.state = State.SYNCING;
            s.since = now;
            // The standby copies the primary's journal and gets every record the primary journals
            // from then on, straight from the primary: the front sends it nothing.
            s.link.tell(new Assign(epoch, Role.STANDBY.code(), primary.hello.address(), 0));
            log.info("front: controller {} joins primary {} as standby", s.id(), primary.id());
        }
    }

    private void standbyLost(Slot s) {
        if (primary != null && primary.link.connected()) {
            goAlone();
        }
    }

    private void goAlone() {
        if (goingAlone) {
            return;
        }
        goingAlone = true;
        primary.link.tell(new Assign(epoch + 1, Role.PRIMARY.code(), "", 0));
    }

    /**
     * A failover ended with {@code to} serving (a promoted controller, or the lost primary itself
     * when nobody could replace it): one log line with where the time went, and the histogram.
     */
    private void failedOver(Slot to, int resent) {
        FailoverClock f = failover;
        failover = null;
        if (f == null) {
            return; // a first promotion, or one after both controllers were down: not a failover
        }
        long now = System.nanoTime();
        if (f.asked == 0) {
            log.info("front: primary {} serves again {} ms after its last word ({} ms to detection: {}); nobody could"
                            + " replace it; {} requests resent", to.id(), FailoverClock.ms(f.lastHeard, now),
                    FailoverClock.ms(f.lastHeard, f.detected), f.why, resent);
        } else {
            log.info("front: failover from {} to {} took {} ms: {} ms from its last word to detection ({}), fenced {} ms"
                            + " later, promotion asked {} ms later, promoted in {} ms, {} requests resent", f.from,
                    to.id(), FailoverClock.ms(f.lastHeard, now), FailoverClock.ms(f.lastHeard, f.detected), f.why,
                    FailoverClock.ms(f.detected, f.fenced), FailoverClock.ms(f.fenced, f.asked),
                    FailoverClock.ms(f.asked, now), resent);
        }
        failoverObserver.accept(Duration.ofNanos(now - f.lastHeard));
    }

    private void failover(String why, boolean linkClosed) {
        Slot old = primary;
        primary = null;
        failovers++;
        goingAlone = false;
        long now = System.nanoTime();
        failover = new FailoverClock(old.id(), why, Math.min(now, old.link.lastHeardNanos()), now);
        cluster.noPrimary("primary " + old.id() + " lost: " + why);
        log.warn("front: primary {} lost ({}); clients stall until another controller serves", old.id(), why);
        if (old.hello == null) {
            return;
        }
        if (candidate().isPresent()) {
            fenceAsync(old.hello, linkClosed ? EXIT_GRACE : Duration.ZERO);
        } else {
            // Fencing the only controller that holds every write would turn a stall into an
            // outage: a primary silent under load comes back and is adopted (nobody was promoted,
            // so it is still the one writer); one that died comes back as a current controller.
            toFence = old.hello;
            log.warn("front: no other controller is in sync to take over from {}: it is not fenced; clients stall"
                    + " until it answers again or another controller can take over", old.id());
        }
    }

    /** Fences on its own thread (it may wait for a process to die, or a command); reports back here. */
    private void fenceAsync(Hello hello) {
        fenceAsync(hello, Duration.ZERO);
    }

    private void fenceAsync(Hello hello, Duration grace) {
        toFence = hello;
        fencing = true;
        Thread t = new Thread(() -> {
            Optional<String> failed = fencer.fence(hello, grace);
            thread.execute(() -> fenced(hello, failed));
        }, "parityd-fence");
        t.setDaemon(true);
        t.start();
    }

    private void fenced(Hello hello, Optional<String> failed) {
        fencing = false;
        if (failed.isPresent()) {
            log.error("front: FENCING FAILED, nobody is promoted: {}; trying again in a second", failed.get());
            thread.schedule(() -> fenceAsync(hello), 1, TimeUnit.SECONDS);
            fencing = true; // until the retry runs
            return;
        }
        log.info("front: controller {} is fenced", hello.nodeId());
        toFence = null;
        if (failover != null) {
            failover.fenced = System.nanoTime();
        }
        if (primary == null) {
            choosePrimary(); // now, not at the next tick: clients are waiting
        }
    }

    /** The pair as this front sees it now (taken on the arbiter's thread). */
    ClusterFront.View view() {
        try {
            return thread.submit(() -> {
                List<io.parityd.admin.ArrayStatus.PeerStatus> peers = new ArrayList<>();
                for (Slot s : slots) {
                    long rtt = s.link.roundTripNanos();
                    peers.add(new io.parityd.admin.ArrayStatus.PeerStatus(s.id(), Links.format(s.link.address()),
                            s.state.name(), s.link.lastEpoch(), rtt < 0 ? -1 : rtt / 1000));
                }
                return new ClusterFront.View(primary == null ? null : primary.id(), epoch, failovers,
                        cluster.outstanding(), peers);
            }).get(1, TimeUnit.SECONDS);
        } catch (Exception e) {
            return new ClusterFront.View(null, epoch, failovers, cluster.outstanding(), List.of());
        }
    }

    int failovers() {
        return failovers;
    }

    @Override
    public void close() throws InterruptedException {
        thread.shutdownNow();
        thread.awaitTermination(5, TimeUnit.SECONDS);
        slots.forEach(s -> s.link.close());
    }
}
