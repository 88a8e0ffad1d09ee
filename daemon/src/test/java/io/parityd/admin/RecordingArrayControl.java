package io.parityd.admin;

import io.parityd.admin.ArrayStatus.MemberStatus;
import io.parityd.admin.ArrayStatus.ScrubResult;
import io.parityd.admin.ArrayStatus.TaskStatus;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;

/**
 * A small real {@link ArrayControl} for tests of the admin socket and the commands: a RAID-5
 * array of three members that records every call, refuses what a real array refuses, and runs
 * its rebuilds and scrubs by status calls instead of time: each {@link #status()} advances the
 * running task by {@link #step} stripes, so a client polling it sees the task progress and end.
 */
public final class RecordingArrayControl implements ArrayControl {

    public static final String NAME = "vol0";
    public static final UUID ID = UUID.fromString("6f1c2a9e-0d4b-4c1e-9a57-3b2f8e7d6c5a");
    public static final long STRIPES = 10;
    private static final long STRIPE_BYTES = 2 * 65536;

    private final List<String> calls = new ArrayList<>();
    private final List<MemberStatus> members = new ArrayList<>();
    private final List<String> spares = new ArrayList<>();
    private Task task;
    private ScrubResult lastScrub;
    private String refusal;
    private RuntimeException bug;
    private Gate failGate;

    /** Stripes a task advances per status call. */
    public long step = 4;
    /** Stripe at which a rebuild stops with the replacement failing; -1: it completes. */
    public long rebuildFailsAt = -1;
    /** Parity mismatches a scrub finds (spread over its first stripes). */
    public long mismatches;
    /** Stripe at which a scrub stops early (the array failed under it); -1: it completes. */
    public long scrubStopsAt = -1;
    /** Whether ended scrubs are reported in {@link ArrayStatus#lastScrub()}, as a service that predates it would not. */
    public boolean reportsScrubs = true;

    private static final class Task {
        final String kind;
        final String target;
        final int slot;
        long done;

        Task(String kind, String target, int slot) {
            this.kind = kind;
            this.target = target;
            this.slot = slot;
        }
    }

    public RecordingArrayControl(Path dir) {
        for (int slot = 0; slot < 3; slot++) {
            members.add(new MemberStatus(slot, dir.resolve("m" + slot).toString(), "active", null));
        }
    }

    /** The calls so far, e.g. {@code fail 1}, {@code replace 0 /x}, {@code add-spare /s}, {@code scrub repair=true}. */
    public synchronized List<String> calls() {
        return List.copyOf(calls);
    }

    /** The next call that changes something is refused with {@code message}. */
    public synchronized void refuseNext(String message) {
        refusal = message;
    }

    /** The next call of any kind throws {@code e}, as a bug in the service would. */
    public synchronized void throwNext(RuntimeException e) {
        bug = e;
    }

    /** Sets slot {@code slot} faulty for {@code reason} without recording a call (a past I/O error). */
    public synchronized void markFaulty(int slot, String reason) {
        MemberStatus m = members.get(slot);
        members.set(slot, new MemberStatus(slot, m.path(), "faulty", reason));
    }

    @Override
    public synchronized ArrayStatus status() {
        calls.add("status");
        throwBug();
        advance();
        return snapshot();
    }

    /**
     * Makes the next {@link #fail} wait, outside the lock, until the returned latch is released,
     * as a superblock write on a slow disk would; {@code entered} is counted down when it waits.
     */
    public CountDownLatch holdNextFail(CountDownLatch entered) {
        CountDownLatch release = new CountDownLatch(1);
        failGate = () -> {
            entered.countDown();
            release.await();
        };
        return release;
    }

    private interface Gate {
        void pass() throws InterruptedException;
    }

    @Override
    public void fail(String member, boolean force) throws ControlException {
        Gate gate;
        synchronized (this) {
            gate = failGate;
            failGate = null;
        }
        if (gate != null) {
            try {
                gate.pass();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ControlException("interrupted");
            }
        }
        failNow(member, force);
    }

    private synchronized void failNow(String member, boolean force) throws ControlException {
        calls.add("fail " + member + (force ? " --force" : ""));
        checkRefusal();
        MemberStatus m = find(member);
        members.set(m.slot(), new MemberStatus(m.slot(), m.path(), "faulty", "failed by the operator"));
    }

    @Override
    public synchronized void replace(String member, Path replacement) throws ControlException {
        calls.add("replace " + member + " " + replacement);
        checkRefusal();
        MemberStatus m = find(member);
        checkUnused(replacement);
        if (task != null) {
            throw new ControlException("a " + task.kind + " is running; wait for it to finish (parityd status)");
        }
        members.set(m.slot(), new MemberStatus(m.slot(), replacement.toString(), "rebuilding", null));
        task = new Task("rebuild", replacement.toString(), m.slot());
    }

    @Override
    public synchronized void reAdd(Path member) throws ControlException {
        calls.add("re-add " + member);
        checkRefusal();
        MemberStatus m = find(member.toString());
        if (task != null) {
            throw new ControlException("a " + task.kind + " is running; wait for it to finish (parityd status)");
        }
        members.set(m.slot(), new MemberStatus(m.slot(), member.toString(), "rebuilding", null));
        task = new Task("rebuild", member.toString(), m.slot());
    }

    @Override
    public synchronized void addSpare(Path spare) throws ControlException {
        calls.add("add-spare " + spare);
        checkRefusal();
        checkUnused(spare);
        spares.add(spare.toString());
    }

    @Override
    public synchronized void scrub(boolean repair) throws ControlException {
        calls.add("scrub repair=" + repair);
        checkRefusal();
        if (task != null) {
            throw new ControlException("a " + task.kind + " is running; wait for it to finish (parityd status)");
        }
        task = new Task(repair ? "repair" : "check", NAME, -1);
    }

    private void advance() {
        if (task == null) {
            return;
        }
        task.done = Math.min(STRIPES, task.done + step);
        if (task.kind.equals("rebuild") && rebuildFailsAt >= 0 && task.done >= rebuildFailsAt) {
            members.set(task.slot, new MemberStatus(task.slot, task.target, "faulty", "write error on " + task.target));
            task = null;
        } else if (task.slot < 0 && scrubStopsAt >= 0 && task.done >= scrubStopsAt) {
            endScrub(scrubStopsAt);
        } else if (task.done == STRIPES) {
            finish();
        }
    }

    private void finish() {
        if (task.kind.equals("rebuild")) {
            members.set(task.slot, new MemberStatus(task.slot, task.target, "active", null));
            task = null;
        } else {
            endScrub(STRIPES);
        }
    }

    private void endScrub(long done) {
        long found = Math.min(mismatches, done);
        if (reportsScrubs) {
            lastScrub = new ScrubResult(task.kind, done, STRIPES, found, task.kind.equals("repair") ? found : 0, Instant.now());
        }
        task = null;
    }

    private ArrayStatus snapshot() {
        List<TaskStatus> tasks = new ArrayList<>();
        if (task != null) {
            long left = STRIPES - task.done;
            tasks.add(new TaskStatus(task.kind, task.target, task.done, STRIPES, 12.5 * (1 << 20),
                    left * 2, Math.min(mismatches, task.done)));
        }
        long notActive = members.stream().filter(m -> !m.state().equals("active")).count();
        String state = notActive == 0 ? "clean" : notActive == 1 ? "degraded" : "failed";
        return new ArrayStatus(NAME, ID, 5, 65536, STRIPES * STRIPE_BYTES, state, members, spares, tasks,
                "nbd://127.0.0.1:10809/" + NAME, lastScrub);
    }

    private MemberStatus find(String member) throws ControlException {
        for (MemberStatus m : members) {
            if (member.equals(String.valueOf(m.slot())) || member.equals(m.path())) {
                return m;
            }
        }
        throw new ControlException("'" + member + "' is not a member of array '" + NAME
                + "'; give a slot number or a member path as parityd status lists them");
    }

    private void checkUnused(Path path) throws ControlException {
        String p = path.toString();
        if (spares.contains(p) || members.stream().anyMatch(m -> p.equals(m.path()))) {
            throw new ControlException(p + " is already in array '" + NAME + "'; give a new device");
        }
    }

    private void checkRefusal() throws ControlException {
        throwBug();
        if (refusal != null) {
            String message = refusal;
            refusal = null;
            throw new ControlException(message);
        }
    }

    private void throwBug() {
        if (bug != null) {
            RuntimeException e = bug;
            bug = null;
            throw e;
        }
    }
}
