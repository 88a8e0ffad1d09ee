package io.parityd.controller;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One controller's role in an HA pair, and the only place that decides whether it may write the
 * members (DESIGN.md "Failover and fencing", guarantee G4 "one writer"). The front is the
 * arbiter: its assignments, leases and epochs arrive here as events, and every role change goes
 * through one {@code transition} that checks it against an explicit table of legal moves, logs
 * {@code controller A: from → to (reason)} and tells the {@link RoleListener}s. Making the moves
 * explicit is the point: a primary that wakes from a pause after a takeover stops writing when
 * its lease runs out, and once it learns the new epoch it can only become {@link Role#FENCED}.
 *
 * <p>Epochs are numbered by the front from 1; {@link #NO_EPOCH} means "none yet". The epoch a
 * machine holds never goes down: besides the epoch it acts in, it is the highest one it has been
 * shown, so a stale assignment cannot make it primary below an epoch it already knows.
 *
 * <p>Thread-safe. Readers ({@link #mayWriteMembers()} sits on the write path) see one immutable
 * snapshot through a volatile read; events change it under a lock. Listeners are called outside
 * that lock, one change at a time and in the order the changes happened, by whichever thread
 * delivers first; so an event may return before its own change reached the listeners when
 * another thread is delivering. Time is read from the injected {@link MonotonicClock}, and
 * nothing static is mutable (the table and the logger only), so two machines in one JVM never
 * meet.
 */
public final class RoleMachine {

    /** The epoch of a controller that has never been given one. */
    public static final long NO_EPOCH = 0;

    private static final Logger log = LoggerFactory.getLogger(RoleMachine.class);
    private static final Map<Role, Set<Role>> MOVES = moves();

    private final String id;
    private final MonotonicClock clock;
    private final List<RoleListener> listeners = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    /** Changes made but not yet handed to the listeners. Guarded by {@link #lock}. */
    private final ArrayDeque<Change> undelivered = new ArrayDeque<>();
    /** Whether some thread is handing changes to the listeners. Guarded by {@link #lock}. */
    private boolean delivering;
    /** Written only under {@link #lock}. */
    private volatile State state = new State(Role.STARTING, NO_EPOCH, NO_EPOCH, null);
    private volatile long lastLeaseNanos;

    /** {@code lease} is null while the front has granted none in this role. */
    private record State(Role role, long epoch, long inSyncEpoch, Lease lease) {

        State withEpoch(long newEpoch) {
            return new State(role, newEpoch, inSyncEpoch, lease);
        }

        State withLease(Lease newLease) {
            return new State(role, epoch, inSyncEpoch, newLease);
        }
    }

    private record Lease(long epoch, long expiresNanos) {
    }

    private record Change(Role from, Role to, String reason, long epoch) {
    }

    /**
     * @param id    this controller's name in logs ("A", "B")
     * @param clock the clock leases are measured by
     */
    public RoleMachine(String id, MonotonicClock clock) {
        if (Objects.requireNonNull(id, "id").isBlank()) {
            throw new IllegalArgumentException("a controller id must not be blank");
        }
        this.id = id;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public Role role() {
        return state.role();
    }

    /** The epoch this controller acts in: the highest it has been assigned or shown. */
    public long epoch() {
        return state.epoch();
    }

    /**
     * The highest epoch at which this controller's journal held every write: set when it becomes
     * primary, or a caught-up standby, at that epoch, so a front can tell whose journal is the
     * most recent. {@link #NO_EPOCH} if it never was either.
     */
    public long inSyncEpoch() {
        return state.inSyncEpoch();
    }

    /** Adds a listener for every later role change. */
    public void addListener(RoleListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Single-process mode: no front, no peer, no epochs; this controller writes alone. */
    public void startStandalone() {
        synchronized (lock) {
            transition(Role.STANDALONE, state.epoch(), "single-process mode, no peer");
        }
        deliverChanges();
    }

    /**
     * The front made this controller primary at {@code epoch}. From {@link Role#STARTING} the
     * epoch may not be below the one it knows; a standby is promoted only with a new, higher
     * epoch, by which its old primary is then fenced. It writes nothing until the first
     * {@link #leaseRenewed} at this epoch.
     *
     * @throws IllegalArgumentException if the epoch is too low for the current role
     * @throws IllegalStateException    if the current role cannot become primary
     */
    public void assignedPrimary(long epoch, String reason) {
        requireEpoch(epoch);
        Objects.requireNonNull(reason, "reason");
        synchronized (lock) {
            State s = state;
            if (s.role() == Role.STANDBY && epoch <= s.epoch()) {
                throw new IllegalArgumentException("controller " + id + ": a standby at epoch " + s.epoch()
                        + " is promoted only at a higher epoch, not " + epoch);
            }
            if (allowed(s.role(), Role.PRIMARY) && epoch < s.epoch()) {
                throw staleEpoch(epoch, s, "primary");
            }
            transition(Role.PRIMARY, epoch, "primary at epoch " + epoch + ": " + reason);
        }
        deliverChanges();
    }

    /**
     * The front made this controller its standby at {@code epoch}: it starts copying the
     * primary's pending journal records. A standby that is told so again has missed records and
     * copies again.
     *
     * @throws IllegalArgumentException if the epoch is below the one it knows
     * @throws IllegalStateException    if the current role cannot become standby
     */
    public void assignedStandby(long epoch) {
        requireEpoch(epoch);
        synchronized (lock) {
            State s = state;
            if (allowed(s.role(), Role.RESYNCING) && epoch < s.epoch()) {
                throw staleEpoch(epoch, s, "standby");
            }
            String reason = s.role() == Role.STANDBY
                    ? "missed records, copying again at epoch " + epoch
                    : "standby at epoch " + epoch + ", copying the primary's journal";
            transition(Role.RESYNCING, epoch, reason);
        }
        deliverChanges();
    }

    /**
     * The copy of the primary's journal, taken at {@code epoch}, is complete: this controller is
     * promotable. A copy taken at an epoch older than one it has since been shown is refused: the
     * primary may have gone on alone since, so the caller copies again.
     *
     * @throws IllegalArgumentException if the copy's epoch is older than the known one
     * @throws IllegalStateException    unless resyncing
     */
    public void caughtUp(long epoch) {
        requireEpoch(epoch);
        synchronized (lock) {
            State s = state;
            if (allowed(s.role(), Role.STANDBY) && epoch < s.epoch()) {
                throw staleEpoch(epoch, s, "a copy");
            }
            transition(Role.STANDBY, epoch, "caught up with the primary at epoch " + epoch);
        }
        deliverChanges();
    }

    /**
     * Someone ({@code source}: the front, the peer, a member's superblock) showed an epoch. Above
     * its own, a primary or standby is outdated and is fenced; a controller that is fenced,
     * starting or resyncing writes nothing anyway and only records the epoch as known.
     *
     * @return whether this fenced the controller
     * @throws IllegalStateException if standalone, which has no epochs
     */
    public boolean sawEpoch(long epoch, String source) {
        Objects.requireNonNull(source, "source");
        boolean fenced;
        synchronized (lock) {
            fenced = sawEpochLocked(epoch, "from " + source);
        }
        deliverChanges();
        return fenced;
    }

    /**
     * The front granted this controller a lease at {@code epoch} for {@code lease} from now. Only
     * a primary holds one, and only at its own epoch: a grant at an older epoch is stale and
     * ignored; one at a higher epoch means another controller was promoted, so it counts as
     * {@link #sawEpoch} and fences a primary.
     *
     * @return whether the lease was taken
     * @throws IllegalStateException if standalone, which has no front
     */
    public boolean leaseRenewed(long epoch, Duration lease) {
        requireEpoch(epoch);
        Objects.requireNonNull(lease, "lease");
        if (lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("a lease must be positive, not " + lease);
        }
        long nanos = lease.toNanos();
        lastLeaseNanos = nanos;
        boolean taken = false;
        synchronized (lock) {
            State s = state;
            if (epoch > s.epoch()) {
                sawEpochLocked(epoch, "in a lease from the front");
            } else if (s.role() == Role.STANDALONE) {
                throw new IllegalStateException("controller " + id + " is STANDALONE: no front grants it a lease");
            } else if (s.role() == Role.PRIMARY && epoch == s.epoch()) {
                state = s.withLease(new Lease(epoch, clock.nanos() + nanos));
                taken = true;
            }
        }
        deliverChanges();
        return taken;
    }

    /**
     * The link to the front is gone. A standby, a resyncing or a fenced controller goes back to
     * waiting for an assignment; a primary stays primary and keeps writing only until its lease
     * runs out, since the front may already be promoting the standby.
     *
     * @throws IllegalStateException if standalone, which has no front
     */
    public void lostFront() {
        synchronized (lock) {
            State s = state;
            switch (s.role()) {
                case STANDALONE -> throw new IllegalStateException("controller " + id + " is STANDALONE: it has no front to lose");
                case STARTING, PRIMARY -> {
                    // STARTING is already waiting; a PRIMARY's lease runs out by itself
                }
                case RESYNCING -> transition(Role.STARTING, s.epoch(), "lost the front mid-copy");
                case STANDBY, FENCED -> transition(Role.STARTING, s.epoch(), "lost the front");
            }
        }
        deliverChanges();
    }

    /**
     * A standby's copy of the primary's journal could not finish (the primary cannot be reached,
     * or it took too long): back to waiting for an assignment; the front asks again.
     *
     * @throws IllegalStateException if not RESYNCING
     */
    public void copyAborted(String reason) {
        Objects.requireNonNull(reason, "reason");
        synchronized (lock) {
            State s = state;
            if (s.role() != Role.RESYNCING) {
                throw new IllegalStateException("controller " + id + " is " + s.role() + ", not copying a journal");
            }
            transition(Role.STARTING, s.epoch(), "copy aborted: " + reason);
        }
        deliverChanges();
    }

    /**
     * The front (or an operator) told this controller to stop writing. Telling a fenced one again
     * changes nothing, so the message may be repeated.
     *
     * @throws IllegalStateException if standalone
     */
    public void standDown(String reason) {
        Objects.requireNonNull(reason, "reason");
        synchronized (lock) {
            State s = state;
            if (s.role() != Role.FENCED) {
                transition(Role.FENCED, s.epoch(), "told to stand down: " + reason);
            }
        }
        deliverChanges();
    }

    /**
     * Whether this controller may write the members now: standalone, or primary with an
     * unexpired lease at its own epoch. Call it right before each stripe write, never once per
     * batch, and do not write when it says no.
     *
     * <p>This is defence in depth only. A thread paused between this check and its
     * {@code pwrite} (GC, SIGSTOP, a slow disk queue) still writes after the lease ended, and a
     * lease is measured on this host's clock, not the front's. What actually keeps a second
     * writer off the members is fencing: the new primary takes the member locks and the old
     * process is killed before it writes (DESIGN.md "Failover and fencing").
     */
    public boolean mayWriteMembers() {
        State s = state;
        return switch (s.role()) {
            case STANDALONE -> true;
            case PRIMARY -> remainingNanos(s) > 0;
            case STARTING, RESYNCING, STANDBY, FENCED -> false;
        };
    }

    /**
     * A primary goes on without its standby at {@code epoch} (the front raised the epoch; the
     * superblocks hold it already): it stays primary, in sync at the new epoch, and its lease
     * carries over to it, since the front that granted it asked for this.
     *
     * @throws IllegalStateException    if not primary
     * @throws IllegalArgumentException if {@code epoch} is not above the current one
     */
    public void epochRaised(long epoch, String reason) {
        requireEpoch(epoch);
        synchronized (lock) {
            State s = state;
            if (s.role() != Role.PRIMARY) {
                throw new IllegalStateException("controller " + id + " is " + s.role() + ", not PRIMARY: only a"
                        + " primary raises the epoch it acts in");
            }
            if (epoch <= s.epoch()) {
                throw staleEpoch(epoch, s, "raising the epoch");
            }
            Lease lease = s.lease() == null ? null : new Lease(epoch, s.lease().expiresNanos());
            state = new State(Role.PRIMARY, epoch, epoch, lease);
            log.info("controller {}: PRIMARY at epoch {} → {} ({})", id, s.epoch(), epoch, reason);
        }
    }

    /** The clock leases are measured by. */
    public MonotonicClock clock() {
        return clock;
    }

    /** The length of the last lease granted (the front's setting); zero before the first. */
    public Duration leaseLength() {
        return Duration.ofNanos(lastLeaseNanos);
    }

    /** What is left of a primary's lease at its epoch; zero in every other case. */
    public Duration leaseRemaining() {
        State s = state;
        return s.role() == Role.PRIMARY ? Duration.ofNanos(remainingNanos(s)) : Duration.ZERO;
    }

    @Override
    public String toString() {
        State s = state;
        return "controller " + id + ": " + s.role() + " at epoch " + s.epoch();
    }

    /** Whether the table lets a controller move {@code from → to}. */
    static boolean allowed(Role from, Role to) {
        return MOVES.get(from).contains(to);
    }

    /**
     * The only place a role changes: refuses a move the table does not hold, logs it, and queues
     * it for the listeners. A role change drops the lease, which belonged to the role it was
     * granted in. Called holding {@link #lock}.
     */
    private void transition(Role to, long epoch, String reason) {
        State from = state;
        if (!allowed(from.role(), to)) {
            throw new IllegalStateException("controller " + id + ": " + from.role() + " → " + to
                    + " is not allowed (" + reason + ")");
        }
        if (epoch < from.epoch()) {
            throw new IllegalStateException("controller " + id + ": epoch would go back from " + from.epoch()
                    + " to " + epoch + " (" + reason + ")");
        }
        long inSync = to == Role.PRIMARY || to == Role.STANDBY ? epoch : from.inSyncEpoch();
        state = new State(to, epoch, inSync, null);
        log.info("controller {}: {} → {} ({})", id, from.role(), to, reason);
        undelivered.add(new Change(from.role(), to, reason, epoch));
    }

    private static Map<Role, Set<Role>> moves() {
        Map<Role, Set<Role>> m = new EnumMap<>(Role.class);
        m.put(Role.STARTING, EnumSet.of(Role.STANDALONE, Role.PRIMARY, Role.RESYNCING, Role.FENCED));
        m.put(Role.STANDALONE, EnumSet.noneOf(Role.class));
        // back to STARTING: lost the primary or the front mid-copy
        m.put(Role.RESYNCING, EnumSet.of(Role.STANDBY, Role.STARTING, Role.FENCED));
        // back to RESYNCING: missed records, must copy again
        m.put(Role.STANDBY, EnumSet.of(Role.PRIMARY, Role.RESYNCING, Role.FENCED, Role.STARTING));
        m.put(Role.PRIMARY, EnumSet.of(Role.FENCED));
        m.put(Role.FENCED, EnumSet.of(Role.RESYNCING, Role.STARTING));
        m.replaceAll((from, to) -> Collections.unmodifiableSet(to));
        return Collections.unmodifiableMap(m);
    }

    /** Called holding {@link #lock}. */
    private boolean sawEpochLocked(long epoch, String source) {
        State s = state;
        switch (s.role()) {
            case STANDALONE -> throw new IllegalStateException("controller " + id
                    + " is STANDALONE: it has no epochs (saw " + epoch + " " + source + ")");
            case PRIMARY, STANDBY -> {
                if (epoch > s.epoch()) {
                    transition(Role.FENCED, epoch, "saw epoch " + epoch + " > " + s.epoch() + " " + source);
                    return true;
                }
            }
            case STARTING, RESYNCING, FENCED -> {
                if (epoch > s.epoch()) {
                    // writes nothing in these roles anyway; the epoch only bars stale assignments
                    state = s.withEpoch(epoch);
                    log.info("controller {}: {} knows epoch {} > {} ({})", id, s.role(), epoch, s.epoch(), source);
                }
            }
        }
        return false;
    }

    private long remainingNanos(State s) {
        Lease lease = s.lease();
        if (lease == null || lease.epoch() != s.epoch()) {
            return 0;
        }
        // a difference, not a comparison of readings: the counter may wrap
        return Math.max(0, lease.expiresNanos() - clock.nanos());
    }

    private IllegalArgumentException staleEpoch(long epoch, State s, String what) {
        return new IllegalArgumentException("controller " + id + ": " + what + " at epoch " + epoch
                + " is older than the epoch " + s.epoch() + " it knows");
    }

    private static void requireEpoch(long epoch) {
        if (epoch <= NO_EPOCH) {
            throw new IllegalArgumentException("epochs start at 1, not " + epoch);
        }
    }

    /**
     * Hands queued changes to the listeners, outside the lock. One thread delivers at a time, so
     * listeners see changes in order even when events race, or when a listener calls back in.
     * A failing listener does not keep the change from the others; its exception is thrown
     * once the queue is empty.
     */
    private void deliverChanges() {
        synchronized (lock) {
            if (delivering || undelivered.isEmpty()) {
                return;
            }
            delivering = true;
        }
        RuntimeException failure = null;
        boolean drained = false;
        try {
            while (true) {
                Change c;
                synchronized (lock) {
                    c = undelivered.poll();
                    if (c == null) {
                        delivering = false;
                        drained = true;
                        break;
                    }
                }
                for (RoleListener l : listeners) {
                    try {
                        l.changed(c.from(), c.to(), c.reason(), c.epoch());
                    } catch (RuntimeException e) {
                        if (failure == null) {
                            failure = e;
                        } else {
                            failure.addSuppressed(e);
                        }
                    }
                }
            }
        } finally {
            if (!drained) {
                synchronized (lock) {
                    delivering = false; // an Error escaped; the next event delivers what is left
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
