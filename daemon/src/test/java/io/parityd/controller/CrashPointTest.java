package io.parityd.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.block.BlockDevice;
import io.parityd.block.CrashSwitch;
import io.parityd.block.CrashingDevice;
import io.parityd.block.PowerLossDevice;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalMode;
import io.parityd.nvram.JournalOptions;
import io.parityd.raid.ArrayGeometry;
import io.parityd.raid.PreimageLog;
import io.parityd.raid.RaidVolume;
import io.parityd.raid.RaidVolumes;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The write-hole test (issue 4, G1). A write is stopped after each step of its path — record
 * durable and no member touched, then before or after each data and parity chunk reaches a
 * member — as if the process died there (every member call from then on throws; the members keep
 * what reached them, as the page cache does at kill -9). After recovery from the journal:
 * the interrupted write's range holds its old or its new content (new, in fact: its record was
 * durable), an acknowledged write is intact, nothing else changed, a scrub finds no parity
 * mismatch, and with any one member removed every byte still reads back right.
 *
 * <p>Both journal modes: a data journal redoes the interrupted write, so its range holds the new
 * content; a commands journal (issue 15) only resyncs its stripes, so each sector of the range
 * holds its old or its new content, and once the client sends the unanswered write again (as the
 * HA front does, or a reconnecting client) the new.
 *
 * <p>The same sweep without a journal and without a resync must show the hole — proof that the
 * test can fail.
 *
 * <p>Degraded: the sweep again with one slot recorded faulty before any write, each slot in
 * turn. Here a crash destroys more than the write's own range: the lost chunk exists only as
 * parity, and a stripe whose data and parity disagree reconstructs it wrong. Only the journaled
 * preimage restores it; without preimages the sweep must show that loss.
 */
class CrashPointTest {

    private static final int CHUNK = 4096;
    private static final int STRIPES = 16;

    @TempDir
    Path dir;

    /** One interrupted write: where and how long (partial stripe, full stripe, across stripes). */
    record Write(String name, int offset, int length) {
        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * Each level with few members (partial-stripe writes go by reconstruct-write, which recomputes
     * parity from data and so heals a stripe by itself) and with more (read-modify-write, which
     * folds the change into the old parity and so keeps a stale parity stale: only the journal's
     * stripe resync repairs that).
     */
    /** Every case of {@link #cases()} in each journal mode. */
    static Stream<Arguments> modeCases() {
        List<Arguments> all = new ArrayList<>();
        for (JournalMode m : JournalMode.values()) {
            cases().forEach(a -> {
                Object[] c = a.get();
                all.add(Arguments.of(m, c[0], c[1], c[2]));
            });
        }
        return all.stream();
    }

    /**
     * The suite sweeps one shape of each kind per level: RAID-5 of six (read-modify-write) and
     * RAID-6 of five (reconstruct-write); {@code -Dparityd.crashpoints.all=true} (or
     * {@code bench/crash-points.sh}) adds RAID-5 of four and RAID-6 of seven, which take as long
     * again as the rest of the unit tests together.
     */
    private static final int[][] SHAPES = Boolean.getBoolean("parityd.crashpoints.all")
            ? new int[][] {{5, 4}, {5, 6}, {6, 5}, {6, 7}}
            : new int[][] {{5, 6}, {6, 5}};

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (int[] shape : SHAPES) {
            int level = shape[0];
            int members = shape[1];
            int stripe = CHUNK * (members - (level == 6 ? 2 : 1));
            cases.add(Arguments.of(level, members, new Write("partial stripe (2 chunks, unaligned)", 3 * stripe + 2048, 6144)));
            cases.add(Arguments.of(level, members, new Write("one chunk", 4 * stripe + CHUNK, CHUNK)));
            cases.add(Arguments.of(level, members, new Write("full stripe", 5 * stripe, stripe)));
            cases.add(Arguments.of(level, members, new Write("across two stripes", 7 * stripe + CHUNK, stripe)));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} journal, RAID-{1}, {2} members, {3}")
    @MethodSource("modeCases")
    void shouldLeaveNoHoleAfterACrashAtAnyStepWithTheJournal(JournalMode journalMode, int level, int members,
                                                               Write write) throws Exception {
        int points = 0;
        for (boolean after : new boolean[] {false, true}) {
            for (int k = 1; ; k++) {
                Outcome o = crashAt(journalMode, level, members, write, k, after, Mode.JOURNAL, -1);
                if (!o.fired) {
                    break;
                }
                points++;
                String at = journalMode.word() + ", RAID-" + level + " of " + members + ", " + write + ", crash " + o.where;
                assertThat(o.writeRegionNew).as("%s: the journaled write is redone (data), or resent (commands)", at)
                        .isTrue();
                assertThat(o.sectorsNeitherOldNorNew).as("%s: sectors of the write holding neither (before a resend)", at)
                        .isZero();
                assertThat(o.wrongBytesOutside).as("%s: bytes outside the write that changed", at).isZero();
                assertThat(o.scrubMismatches).as("%s: parity mismatches after recovery", at).isZero();
                assertThat(o.degradedFailures).as("%s: wrong reads with one member removed", at).isEmpty();
            }
        }
        assertThat(points).as("crash points tried (data and parity chunks, before and after each)")
                .isGreaterThanOrEqualTo(2 * (level == 6 ? 3 : 2));
    }

    @Test
    void shouldShowTheHoleWithoutTheJournal() throws Exception {
        List<String> holes = new ArrayList<>();
        for (Arguments a : cases().toList()) {
            int level = (int) a.get()[0];
            int members = (int) a.get()[1];
            Write write = (Write) a.get()[2];
            for (int k = 1; ; k++) {
                Outcome o = crashAt(JournalMode.DATA, level, members, write, k, false, Mode.NO_JOURNAL, -1);
                if (!o.fired) {
                    break;
                }
                if (o.scrubMismatches > 0 || !o.degradedFailures.isEmpty()) {
                    holes.add("RAID-" + level + " of " + members + ", " + write + ", crash " + o.where + ": " + o.scrubMismatches
                            + " mismatches, " + o.degradedFailures);
                }
            }
        }
        assertThat(holes).as("crash points that leave lying parity when nothing is journaled").isNotEmpty();
    }

    @ParameterizedTest(name = "{0} journal, degraded RAID-{1}, {2} members, {3}")
    @MethodSource("modeCases")
    void shouldLoseNothingOnADegradedArrayAfterACrashAtAnyStep(JournalMode journalMode, int level, int members,
                                                               Write write) throws Exception {
        int points = 0;
        long restored = 0;
        for (int failed = 0; failed < members; failed++) {
            for (boolean after : new boolean[] {false, true}) {
                for (int k = 1; ; k++) {
                    Outcome o = crashAt(journalMode, level, members, write, k, after, Mode.JOURNAL, failed);
                    if (!o.fired) {
                        break;
                    }
                    points++;
                    restored += o.restoredStripes;
                    String at = journalMode.word() + ", RAID-" + level + " of " + members + " without slot " + failed
                            + ", " + write + ", crash " + o.where;
                    assertThat(o.writeRegionNew).as("%s: the journaled write is redone, or resent", at).isTrue();
                    assertThat(o.sectorsNeitherOldNorNew).as("%s: sectors of the write holding neither", at).isZero();
                    assertThat(o.wrongBytesOutside).as("%s: bytes outside the write that changed (the lost chunk"
                            + " included)", at).isZero();
                    assertThat(o.scrubMismatches).as("%s: parity mismatches after recovery", at).isZero();
                    assertThat(o.degradedFailures).as("%s: wrong reads with a second member removed", at).isEmpty();
                }
            }
        }
        assertThat(points).as("crash points tried").isGreaterThanOrEqualTo(members);
        assertThat(restored).as("stripes restored from preimages over the sweep: the path under test ran").isPositive();
    }

    @Test
    void shouldShowTheDegradedHoleWithoutPreimages() throws Exception {
        List<String> holes = new ArrayList<>();
        for (Arguments a : cases().toList()) {
            if (!holes.isEmpty()) {
                break; // one is the proof; the sweep above is the thorough part
            }
            int level = (int) a.get()[0];
            int members = (int) a.get()[1];
            Write write = (Write) a.get()[2];
            for (int failed = 0; failed < members; failed++) {
                for (int k = 1; ; k++) {
                    Outcome o = crashAt(JournalMode.DATA, level, members, write, k, true,
                            Mode.JOURNAL_WITHOUT_PREIMAGES, failed);
                    if (!o.fired) {
                        break;
                    }
                    if (o.wrongBytesOutside != 0 || o.scrubMismatches > 0 || !o.degradedFailures.isEmpty()) {
                        holes.add("RAID-" + level + " of " + members + " without slot " + failed + ", " + write
                                + ", crash " + o.where + ": " + o.wrongBytesOutside + " bytes wrong outside the write");
                    }
                }
            }
        }
        assertThat(holes).as("crash points of a degraded array that lose data when no preimage is kept").isNotEmpty();
    }

    /** How the crashed run wrote. */
    private enum Mode {
        JOURNAL, JOURNAL_WITHOUT_PREIMAGES, NO_JOURNAL;

        boolean journaled() {
            return this != NO_JOURNAL;
        }
    }

    /**
     * What one crash point led to. {@code sectorsNeitherOldNorNew}: sectors of the interrupted
     * write's range that held neither after recovery (before any resend).
     */
    private record Outcome(boolean fired, String where, boolean writeRegionNew, long wrongBytesOutside,
                           long scrubMismatches, List<String> degradedFailures, long restoredStripes,
                           long sectorsNeitherOldNorNew) {
    }

    /**
     * @param failed the slot recorded faulty from the start (the array runs degraded throughout,
     *               and restarts so); -1 for none
     */
    private Outcome crashAt(JournalMode journalMode, int level, int members, Write write, int k, boolean after,
                            Mode mode, int failed) throws Exception {
        boolean journaled = mode.journaled();
        ArrayGeometry g = new ArrayGeometry(UUID.randomUUID(), "crash", level, CHUNK, members, 0, (long) STRIPES * CHUNK);
        List<PowerLossDevice> raw = new ArrayList<>();
        CrashSwitch crash = new CrashSwitch();
        List<BlockDevice> crashing = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            raw.add(new PowerLossDevice("m" + i, STRIPES * CHUNK));
            crashing.add(new CrashingDevice(raw.get(i), crash));
        }
        int size = (int) g.volumeSize();
        byte[] model = random(size, 1);
        byte[] fresh = random(write.length(), 2);
        Path journalFile = dir.resolve("j-" + journalMode.word() + "-" + level + "-" + members + "-" + write.offset() + "-"
                + k + "-" + after + "-" + mode + "-" + failed);
        RaidVolume volume = failed < 0 ? RaidVolumes.open(g, crashing) : Degraded.without(g, crashing, failed);
        // Degraded sweeps try several times more points: their journal skips the sync, which a crash
        // of the process (as opposed to the power) does not need; PowerLossTest covers the sync.
        boolean nonVolatile = failed >= 0;
        Journal journal = journaled ? openJournal(journalFile, g, null, nonVolatile, journalMode) : null;
        Controller controller = !journaled ? new LocalController(volume, 4)
                : journalMode == JournalMode.COMMANDS ? new CommandController(volume, journal, 4, 4096, Replication.NONE)
                : new JournaledController(volume, journal, 4);
        if (mode == Mode.JOURNAL_WITHOUT_PREIMAGES) {
            volume.logPreimagesTo(PreimageLog.NONE);
        }
        UUID journalUuid = journaled ? journal.uuid() : null;

        controller.write(0, ByteBuffer.wrap(model), false).get(10, TimeUnit.SECONDS);
        controller.flush().get(10, TimeUnit.SECONDS);
        if (controller instanceof JournaledController j) {
            j.awaitIdle();
            j.retireNow();
        } else if (controller instanceof CommandController c) {
            c.retireNow();
        }
        // An acknowledged write that no FLUSH covered, away from the interrupted one.
        int ackedAt = 10 * (int) g.stripeDataSize() + 512;
        byte[] acked = random(5000 & ~511, 3);
        controller.write(ackedAt, ByteBuffer.wrap(acked), false).get(10, TimeUnit.SECONDS);
        System.arraycopy(acked, 0, model, ackedAt, acked.length);
        if (controller instanceof JournaledController j) {
            j.awaitIdle(); // answered once journaled: let it reach the members, so k counts only the next write
        }

        crash.arm(k, after);
        CompletableFuture<Void> interrupted = controller.write(write.offset(), ByteBuffer.wrap(fresh), false);
        try {
            interrupted.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException expected) {
            // the process "died" under it: never acknowledged
        }
        abandon(controller, journal); // waits for the write to reach the members, or die trying
        boolean fired = crash.fired();
        String where = crash.firing().map(Object::toString).orElse("none");
        if (!fired) {
            return new Outcome(false, where, true, 0, 0, List.of(), 0, 0);
        }

        // Restart on what reached the members, as after kill -9.
        long restoredStripes = 0;
        RaidVolume restarted = failed < 0 ? RaidVolumes.open(g, raw) : Degraded.without(g, raw, failed);
        long neither = 0;
        if (journaled) {
            try (Journal reopened = openJournal(journalFile, g, journalUuid, nonVolatile, journalMode)) {
                restoredStripes = JournalReplay.recover(reopened, restarted).stripesRestored();
            }
            if (journalMode == JournalMode.COMMANDS) {
                // Nothing was redone: each sector holds old or new; the client sends the write again.
                byte[] before = read(restarted, size);
                for (int s = write.offset(); s < write.offset() + write.length(); s += 512) {
                    boolean sectorNew = Arrays.equals(before, s, s + 512, fresh, s - write.offset(), s - write.offset() + 512);
                    boolean sectorOld = Arrays.equals(before, s, s + 512, model, s, s + 512);
                    neither += sectorNew || sectorOld ? 0 : 1;
                }
                restarted.write(ByteBuffer.wrap(fresh), write.offset(), false);
            }
        }
        byte[] now = read(restarted, size);
        boolean isNew = Arrays.equals(now, write.offset(), write.offset() + write.length(), fresh, 0, fresh.length);
        boolean isOld = Arrays.equals(now, write.offset(), write.offset() + write.length(), model, write.offset(),
                write.offset() + write.length());
        byte[] expected = model.clone();
        if (isNew) {
            System.arraycopy(fresh, 0, expected, write.offset(), fresh.length);
        }
        long wrongOutside = (isNew || isOld) ? differences(now, expected) : -1;
        long mismatches = restarted.scrub(0, g.stripes(), false, 0, (d, t) -> { }).mismatches();
        List<String> degraded = new ArrayList<>();
        for (int missing = 0; missing < members; missing++) {
            if (missing == failed || (failed >= 0 && level == 5)) {
                continue; // RAID-5 carries one loss: the degraded read above was the check
            }
            RaidVolume degradedVolume = failed < 0 ? Degraded.without(g, raw, missing)
                    : Degraded.without(g, raw, failed, missing);
            long wrong = differences(read(degradedVolume, size), isNew || isOld ? expected : now);
            if (wrong > 0) {
                degraded.add("slot " + missing + " removed: " + wrong + " wrong bytes");
            }
        }
        return new Outcome(true, where, journaled ? isNew : isNew || isOld, wrongOutside, mismatches, degraded,
                restoredStripes, neither);
    }

    private static Journal openJournal(Path file, ArrayGeometry g, UUID expected, boolean nonVolatile, JournalMode mode)
            throws Exception {
        return Journal.open(new JournalOptions(file, g.arrayUuid(), g.name(), expected, 2 << 20, nonVolatile, false,
                JournalOptions.SyncHook.NONE, mode));
    }

    /** The process is gone: its threads stop, nothing more reaches the members, the journal is left as it is. */
    private static void abandon(Controller controller, Journal journal) throws Exception {
        try {
            controller.close(); // fails once the switch fired: the members cannot be synced
        } catch (Exception dead) {
            if (journal != null) {
                journal.close();
            }
            return;
        }
        // Nothing fired: the write completed, close() retired and closed the journal cleanly.
    }

    private static byte[] read(RaidVolume volume, int size) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(size);
        volume.read(b, 0);
        return b.array();
    }

    private static long differences(byte[] a, byte[] b) {
        long n = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] != b[i]) {
                n++;
            }
        }
        return n;
    }

    private static byte[] random(int length, long seed) {
        byte[] b = new byte[length];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }
}
