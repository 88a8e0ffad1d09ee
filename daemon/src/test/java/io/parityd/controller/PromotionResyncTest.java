package io.parityd.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.parityd.block.BlockDevice;
import io.parityd.block.CrashSwitch;
import io.parityd.block.CrashingDevice;
import io.parityd.block.PowerLossDevice;
import io.parityd.link.Finished;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalMode;
import io.parityd.nvram.JournalOptions;
import io.parityd.nvram.RecordKind;
import io.parityd.raid.ArrayGeometry;
import io.parityd.raid.RaidVolume;
import io.parityd.raid.RaidVolumes;
import io.parityd.replication.StandbyJournal;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A promotion on the same boot (issue 13, the failover stall): the standby resyncs only the
 * commands the old primary had not finished and keeps the marked regions marked, instead of
 * resyncing them all. G1 and G2 must hold anyway, through the worst sequence: the old primary dies
 * mid-stripe (its page cache survives), the standby is promoted, the front's resent writes and new
 * ones run, and the power goes before any member sync. Then the next start must find every
 * durable write, every block whole, and no parity that lies, with any one member removed too.
 *
 * <p>The pair runs in one process: the primary is a {@link CommandController} whose
 * {@link Replication} hands each record to a real {@link StandbyJournal} on a journal of its own,
 * and each finished write to it as a {@link Finished} would. Members are {@link PowerLossDevice}s
 * behind a {@link CrashSwitch} (the old primary's death). Two promotions broken on purpose show
 * that the test notices: one told a write finished before it touched the members, one that
 * retires the held records and clears the marks without a member sync.
 */
class PromotionResyncTest {

    private static final int CHUNK = 4096;
    private static final int STRIPES = 64;
    private static final int BLOCK = 4096;
    private static final int MEMBERS = 6;
    /** 64 KiB regions: about 20 in this volume, so writes mark many. */
    private static final long REGION = 64 << 10;

    @TempDir
    Path dir;

    private enum Broken {
        NOTHING,
        /** The primary says a write finished when it records it, before it touches a member. */
        FINISHED_TOO_EARLY,
        /**
         * The promotion retires the held records and clears the marks, as the full resync does,
         * but without its member sync: the old primary's unsynced writes are then named nowhere.
         */
        RETIRED_WITHOUT_SYNC
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void shouldKeepEveryDurableWriteAndNoLyingParityThroughAPromotionThenAPowerLoss(long seed) throws Exception {
        Outcome outcome = run(seed, true, Broken.NOTHING);
        assertThat(outcome.wrong).as("what went wrong").isEmpty();
        assertThat(outcome.report.regionsKept()).as("the promotion kept the marked regions for the next sync")
                .isPositive();
        assertThat(outcome.report.commandsFinished()).as("held commands the old primary had finished").isPositive();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void shouldAlsoHoldWhenThePromotionMayAssumeNothing(long seed) throws Exception {
        Outcome outcome = run(seed, false, Broken.NOTHING);
        assertThat(outcome.wrong).as("what went wrong").isEmpty();
        assertThat(outcome.report.regionsKept()).isZero();
        assertThat(outcome.report.commandsFinished()).isZero();
    }

    @Test
    void shouldResyncFewerStripesWhenTheOldPrimaryFinishedMostOfWhatTheStandbyHolds() throws Exception {
        Outcome same = run(4, true, Broken.NOTHING);
        Outcome across = run(4, false, Broken.NOTHING);
        assertThat(same.report.stripesResynced()).as("resynced on the same boot")
                .isLessThan(across.report.stripesResynced() / 2);
    }

    @Test
    void shouldNoticeAPrimaryThatSaysFinishedTooEarly() throws Exception {
        List<String> caught = new ArrayList<>();
        for (long seed = 1; seed <= 20 && caught.isEmpty(); seed++) {
            caught.addAll(run(seed, true, Broken.FINISHED_TOO_EARLY).wrong);
        }
        assertThat(caught).as("a stripe torn by the old primary's death and never resynced").isNotEmpty();
    }

    @Test
    void shouldNoticeAPromotionThatLetsRecordsAndMarksGoWithoutASync() throws Exception {
        List<String> caught = new ArrayList<>();
        for (long seed = 1; seed <= 20 && caught.isEmpty(); seed++) {
            caught.addAll(run(seed, true, Broken.RETIRED_WITHOUT_SYNC).wrong);
        }
        assertThat(caught).as("unsynced writes no record or mark names, after the power loss").isNotEmpty();
    }

    /**
     * Marks kept at a promotion cover the old primary's unsynced writes: they go only after a
     * member sync of the new primary's own, even when no write comes after the promotion and the
     * controller stops cleanly at once.
     */
    @Test
    void shouldSyncTheMembersBeforeAdoptedMarksGo() throws Exception {
        ArrayGeometry g = new ArrayGeometry(UUID.randomUUID(), "adopt", 5, CHUNK, MEMBERS, 0, (long) STRIPES * CHUNK);
        List<PowerLossDevice> raw = new ArrayList<>();
        for (int i = 0; i < MEMBERS; i++) {
            raw.add(new PowerLossDevice("m" + i, STRIPES * CHUNK));
        }
        RaidVolume volume = RaidVolumes.open(g, raw);
        Journal journal = Journal.open(options(dir.resolve("adopt.nvram"), g, null, JournalOptions.SyncHook.NONE));
        journal.mark(1, REGION, REGION).get(10, TimeUnit.SECONDS); // the old primary's mark, kept
        volume.write(ByteBuffer.wrap(bytes(new Random(1))), REGION, false); // its write, in the page cache only
        assertThat(raw.stream().mapToInt(PowerLossDevice::unsyncedPages).sum()).isPositive();

        CommandController next = new CommandController(volume, journal, 2, REGION, Replication.NONE);
        assertThat(next.marks()).as("adopted").isEqualTo(1);
        next.close();
        assertThat(raw.stream().mapToInt(PowerLossDevice::unsyncedPages).sum())
                .as("pages no member sync covered when the adopted mark went").isZero();
    }

    private record Outcome(List<String> wrong, RecoveryReport report) {
    }

    /** The primary's half of the pair, wired straight to a standby journal in this process. */
    private static final class InProcessStandby implements Replication {
        final StandbyJournal standby;
        final Broken broken;

        InProcessStandby(StandbyJournal standby, Broken broken) {
            this.standby = standby;
            this.broken = broken;
        }

        @Override
        public boolean answerWhenApplied() {
            return true;
        }

        @Override
        public CompletableFuture<Void> mayApply(long seq) {
            return standby.heldSoFar();
        }

        @Override
        public void retiredThrough(long seq) {
            standby.retiredThrough(seq);
        }

        @Override
        public void record(long seq, RecordKind kind, long offset, long length, int flags, ByteBuf data) {
            standby.hold(seq, kind, offset, length, flags, null);
            if (broken == Broken.FINISHED_TOO_EARLY) {
                standby.heldSoFar().thenRun(() -> standby.finished(new Finished(new long[] {seq})));
            }
        }

        @Override
        public void finished(long seq) {
            if (broken != Broken.FINISHED_TOO_EARLY) {
                standby.finished(new Finished(new long[] {seq}));
            }
        }
    }

    private Outcome run(long seed, boolean sameBoot, Broken broken) throws Exception {
        Random random = new Random(seed);
        ArrayGeometry g = new ArrayGeometry(UUID.randomUUID(), "promote", 5, CHUNK, MEMBERS, 0,
                (long) STRIPES * CHUNK);
        int blocks = (int) (g.volumeSize() / BLOCK);
        List<PowerLossDevice> raw = new ArrayList<>();
        CrashSwitch death = new CrashSwitch();
        List<BlockDevice> wired = new ArrayList<>();
        for (int i = 0; i < MEMBERS; i++) {
            raw.add(new PowerLossDevice("m" + i, STRIPES * CHUNK));
            wired.add(new CrashingDevice(raw.get(i), death));
        }
        String tag = seed + "-" + sameBoot + "-" + broken;
        Path primaryFile = dir.resolve("primary-" + tag + ".nvram");
        Path standbyFile = dir.resolve("standby-" + tag + ".nvram");
        Path lastSynced = dir.resolve("standby-" + tag + ".synced");
        AtomicBoolean powerOff = new AtomicBoolean();
        JournalOptions.SyncHook snapshot = file -> {
            if (!powerOff.get()) {
                Files.copy(file, lastSynced, StandardCopyOption.REPLACE_EXISTING);
            }
        };
        Journal primaryJournal = Journal.open(options(primaryFile, g, null, JournalOptions.SyncHook.NONE));
        Journal standbyJournal = Journal.open(options(standbyFile, g, null, snapshot));
        UUID standbyUuid = standbyJournal.uuid();
        StandbyJournal standby = new StandbyJournal(standbyJournal, REGION, g.volumeSize(), seq -> { });
        CommandController primary = new CommandController(RaidVolumes.open(g, wired), primaryJournal, 8, REGION,
                new InProcessStandby(standby, broken));

        Map<Integer, List<byte[]>> history = new HashMap<>();
        Map<Integer, Integer> durable = new HashMap<>();
        long seq = 0;
        for (int round = 0; round < 4; round++) {
            Map<Integer, CompletableFuture<Void>> inFlight = new HashMap<>();
            Map<Integer, Boolean> fua = new HashMap<>();
            for (int i = 0; i < 24; i++) {
                int block = random.nextInt(blocks);
                if (inFlight.containsKey(block)) {
                    continue;
                }
                byte[] data = bytes(random);
                history.computeIfAbsent(block, b -> new ArrayList<>()).add(data);
                fua.put(block, random.nextInt(4) == 0);
                inFlight.put(block, primary.write(++seq, (long) block * BLOCK, ByteBuffer.wrap(data), fua.get(block)));
            }
            for (Map.Entry<Integer, CompletableFuture<Void>> e : inFlight.entrySet()) {
                e.getValue().get(10, TimeUnit.SECONDS);
                if (fua.get(e.getKey())) {
                    durable.put(e.getKey(), history.get(e.getKey()).size());
                }
            }
            if (round == 1) {
                primary.flush().get(10, TimeUnit.SECONDS);
                history.forEach((block, versions) -> durable.put(block, versions.size()));
            }
        }

        // The old primary dies at a random member write among 32 in flight; its page cache lives on.
        death.arm(1 + random.nextInt(60), random.nextBoolean());
        Map<Integer, CompletableFuture<Boolean>> last = new LinkedHashMap<>();
        Map<Integer, byte[]> lastData = new HashMap<>();
        Map<Integer, Boolean> lastFua = new HashMap<>();
        for (int i = 0; i < 32; i++) {
            int block = random.nextInt(blocks);
            if (last.containsKey(block)) {
                continue;
            }
            byte[] data = bytes(random);
            history.computeIfAbsent(block, b -> new ArrayList<>()).add(data);
            lastData.put(block, data);
            lastFua.put(block, random.nextBoolean());
            // Answered before the death, or not: this test's threads run on after it, a dead
            // process's would not (a FUA's member flush that fails then may still "succeed"), so
            // an answer after the switch fired never reached the front.
            last.put(block, primary.write(++seq, (long) block * BLOCK, ByteBuffer.wrap(data), lastFua.get(block))
                    .thenApply(v -> !death.fired()));
        }
        List<Integer> unanswered = new ArrayList<>();
        for (Map.Entry<Integer, CompletableFuture<Boolean>> e : last.entrySet()) {
            try {
                if (!e.getValue().get(10, TimeUnit.SECONDS)) {
                    unanswered.add(e.getKey());
                } else if (lastFua.get(e.getKey())) {
                    durable.put(e.getKey(), history.get(e.getKey()).size());
                }
            } catch (ExecutionException died) {
                unanswered.add(e.getKey());
            }
        }
        assertThat(death.fired()).as("the old primary died among its last writes").isTrue();
        try {
            primary.close();
        } catch (Exception fenced) {
            primaryJournal.close();
        }

        // The promotion.
        standby.close();
        CommandRecovery.Survivors survivors = sameBoot
                ? new CommandRecovery.Survivors(standby.finishedSeqs(), REGION) : null;
        RaidVolume promoted = RaidVolumes.open(g, raw);
        RecoveryReport report = CommandRecovery.recoverHeld(standbyJournal, promoted, standbyJournal.liveMarks(),
                survivors);
        List<String> wrong = new ArrayList<>();
        long lying = promoted.scrub(0, g.stripes(), false, 0, (d, t) -> { }).mismatches();
        if (lying > 0) {
            wrong.add("seed " + seed + ": " + lying + " parity mismatches right after the promotion");
        }
        if (broken == Broken.RETIRED_WITHOUT_SYNC) {
            standbyJournal.retire(standbyJournal.appliedThrough());
            for (var m : standbyJournal.liveMarks()) {
                standbyJournal.unmark(m.region());
            }
        }
        CommandController next = new CommandController(promoted, standbyJournal, 8, REGION, Replication.NONE);
        if (sameBoot && broken == Broken.NOTHING) {
            assertThat(next.marks()).as("the new primary holds the kept marks").isEqualTo(report.regionsKept());
        }
        // The front resends what was never answered; two new writes follow (few, so that most kept
        // regions get no new mark); no FLUSH, no FUA.
        List<CompletableFuture<Void>> after = new ArrayList<>();
        for (int block : unanswered) {
            after.add(next.write((long) block * BLOCK, ByteBuffer.wrap(lastData.get(block)), false));
        }
        for (int i = 0; i < 2; i++) {
            int block = random.nextInt(blocks);
            if (lastData.containsKey(block) && unanswered.contains(block)) {
                continue; // one write per block in flight
            }
            byte[] data = bytes(random);
            history.computeIfAbsent(block, b -> new ArrayList<>()).add(data);
            after.add(next.write((long) block * BLOCK, ByteBuffer.wrap(data), false));
            after.get(after.size() - 1).get(10, TimeUnit.SECONDS);
        }
        CompletableFuture.allOf(after.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

        // The power goes before any member sync.
        for (PowerLossDevice d : raw) {
            d.powerLoss(random);
        }
        powerOff.set(true);
        try {
            next.close();
        } catch (Exception dead) {
            standbyJournal.close();
        }
        Files.copy(lastSynced, standbyFile, StandardCopyOption.REPLACE_EXISTING);
        Files.deleteIfExists(Path.of(standbyFile + ".clean"));

        RaidVolume restarted = RaidVolumes.open(g, raw);
        try (Journal reopened = Journal.open(options(standbyFile, g, standbyUuid, JournalOptions.SyncHook.NONE))) {
            JournalReplay.recover(reopened, restarted);
        }
        PowerLossTest.check(restarted, history, durable, blocks).forEach(b -> wrong.add("seed " + seed + ": " + b));
        long mismatches = restarted.scrub(0, g.stripes(), false, 0, (d, t) -> { }).mismatches();
        if (mismatches > 0) {
            wrong.add("seed " + seed + ": " + mismatches + " parity mismatches after the power loss");
        }
        for (int missing = 0; missing < MEMBERS; missing++) {
            for (String b : PowerLossTest.check(Degraded.without(g, raw, missing), history, durable, blocks)) {
                wrong.add("seed " + seed + ", slot " + missing + " removed: " + b);
            }
        }
        return new Outcome(wrong, report);
    }

    private static JournalOptions options(Path file, ArrayGeometry g, UUID expected, JournalOptions.SyncHook hook) {
        return new JournalOptions(file, g.arrayUuid(), g.name(), expected, 2 << 20, false, false, hook,
                JournalMode.COMMANDS);
    }

    private static byte[] bytes(Random random) {
        byte[] b = new byte[BLOCK];
        random.nextBytes(b);
        return b;
    }
}
