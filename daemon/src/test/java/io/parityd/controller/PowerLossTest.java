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
import io.parityd.raid.RaidVolume;
import io.parityd.raid.RaidVolumes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * G1 under power loss, in both journal modes: members and journal lose everything no sync covered. Members are
 * {@link PowerLossDevice}s (unsynced pages discarded or torn at random); the journal file is
 * replaced by the copy taken at its last completed sync before the power went. Every write
 * acknowledged before a completed FLUSH, or with FUA, must read back after recovery; any other
 * write reads back whole, old or new (a block holds one of its versions from the last durable one
 * on, never a mix); a scrub finds no parity mismatch; and with any one member removed every
 * block still reads right.
 */
class PowerLossTest {

    private static final int CHUNK = 4096;
    private static final int STRIPES = 64;
    private static final int BLOCK = 4096;
    private static final int MEMBERS = 6;

    @TempDir
    Path dir;

    /** Each seed in both journal modes. */
    static Stream<Arguments> seeds(long... seeds) {
        List<Arguments> all = new ArrayList<>();
        for (JournalMode mode : JournalMode.values()) {
            for (long seed : seeds) {
                all.add(Arguments.of(mode, seed));
            }
        }
        return all.stream();
    }

    static Stream<Arguments> healthySeeds() {
        return seeds(1, 2, 3, 4, 5, 6, 7, 8);
    }

    static Stream<Arguments> flushSeeds() {
        return seeds(11, 12, 13, 14);
    }

    static Stream<Arguments> degradedSeeds() {
        return seeds(21, 22, 23, 24, 25, 26);
    }

    @ParameterizedTest(name = "{0} journal, seed {1}")
    @MethodSource("healthySeeds")
    void shouldKeepEveryAcknowledgedWriteAndConsistentParityAfterPowerLoss(JournalMode mode, long seed) throws Exception {
        assertThat(powerLoss(mode, seed, false, -1, DirtyRegions.Broken.NOTHING)).as("what went wrong").isEmpty();
    }

    @ParameterizedTest(name = "{0} journal, seed {1}")
    @MethodSource("flushSeeds")
    void shouldKeepEverythingAFlushPromisedWhenThePowerGoesRightAfterIt(JournalMode mode, long seed) throws Exception {
        assertThat(powerLoss(mode, seed, true, -1, DirtyRegions.Broken.NOTHING)).as("what went wrong").isEmpty();
    }

    /**
     * The commands journal's rules broken on purpose, each over the healthy seeds: this test must
     * notice. A member written before its region's mark is durable, and a mark cleared before a
     * member sync covered its region's writes, both leave a stripe whose parity lies after a power
     * loss that recovery does not know to resync.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DirtyRegions.Broken.class, names = {"WRITE_BEFORE_MARK_DURABLE", "CLEAR_BEFORE_SYNC"})
    void shouldCatchACommandsJournalThatBreaksItsOrdering(DirtyRegions.Broken rule) throws Exception {
        List<String> caught = new ArrayList<>();
        for (long seed = 1; seed <= 24 && caught.isEmpty(); seed++) {
            caught.addAll(powerLoss(JournalMode.COMMANDS, seed, false, -1, rule));
        }
        assertThat(caught).as("seeds whose recovery %s showed", rule).isNotEmpty();
    }

    /**
     * Degraded: a slot recorded faulty from the start. A power loss in the middle of a stripe
     * write must not take the lost slot's chunks with it, written or not (the preimages). No
     * stalled-disk case here: a degraded stripe write waits on the I/O thread for its preimage's
     * sync, so while the disk stalls new writes queue behind those threads and are not answered,
     * which that case's script counts on.
     */
    @ParameterizedTest(name = "{0} journal, seed {1}, slot {1} mod 6 faulty")
    @MethodSource("degradedSeeds")
    void shouldLoseNothingOfADegradedArrayAtPowerLoss(JournalMode mode, long seed) throws Exception {
        assertThat(powerLoss(mode, seed, false, (int) (seed % MEMBERS), DirtyRegions.Broken.NOTHING))
                .as("what went wrong").isEmpty();
    }

    /**
     * @param failed the slot recorded faulty throughout, or -1
     * @param broken a rule of the commands journal broken on purpose, or NOTHING
     * @return what was wrong after recovery: blocks, parity mismatches, degraded reads (empty: all right)
     */
    private List<String> powerLoss(JournalMode mode, long seed, boolean afterFlush, int failed,
                                   DirtyRegions.Broken broken) throws Exception {
        Random random = new Random(seed);
        ArrayGeometry g = new ArrayGeometry(UUID.randomUUID(), "power", 5, CHUNK, MEMBERS, 0, (long) STRIPES * CHUNK);
        int blocks = (int) (g.volumeSize() / BLOCK);
        List<PowerLossDevice> raw = new ArrayList<>();
        CrashSwitch power = new CrashSwitch();
        List<BlockDevice> wired = new ArrayList<>();
        for (int i = 0; i < MEMBERS; i++) {
            raw.add(new PowerLossDevice("m" + i, STRIPES * CHUNK));
            wired.add(new CrashingDevice(raw.get(i), power));
        }
        Path journalFile = dir.resolve("power-" + mode.word() + "-" + seed + "-" + broken + ".nvram");
        Path lastSynced = dir.resolve(journalFile.getFileName() + ".synced");
        // The power goes when the switch fires: a sync that completes after that never happened.
        java.util.concurrent.atomic.AtomicBoolean powerOff = new java.util.concurrent.atomic.AtomicBoolean();
        // A disk that stalls: while the latch is closed, a sync does not finish.
        java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CountDownLatch> stall =
                new java.util.concurrent.atomic.AtomicReference<>(new java.util.concurrent.CountDownLatch(0));
        JournalOptions.SyncHook snapshot = file -> {
            try {
                stall.get().await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!power.fired() && !powerOff.get()) {
                Files.copy(file, lastSynced, StandardCopyOption.REPLACE_EXISTING);
            }
        };
        Journal journal = Journal.open(new JournalOptions(journalFile, g.arrayUuid(), g.name(), null, 2 << 20, false,
                false, snapshot, mode));
        UUID journalUuid = journal.uuid();
        RaidVolume volume = failed < 0 ? RaidVolumes.open(g, wired) : Degraded.without(g, wired, failed);
        // Regions of 64 KiB: about 20 in this volume, so writes keep marking new ones; a rule broken
        // on purpose gets one-chunk regions, so that the last writes need new marks to break it with.
        long regionBytes = broken == DirtyRegions.Broken.NOTHING ? 64 << 10 : CHUNK;
        NumberedController controller = mode == JournalMode.COMMANDS
                ? new CommandController(volume, journal, 8, regionBytes, Replication.NONE)
                : new JournaledController(volume, journal, 8);
        if (controller instanceof CommandController c) {
            c.breakOnPurpose(broken);
        }

        // Per block, every version written to it in order, and how many of them a completed FLUSH
        // or FUA made durable: after the power loss the block must hold one of the versions from
        // the last durable one on (or zeroes, if none was durable yet).
        Map<Integer, List<byte[]>> history = new HashMap<>();
        Map<Integer, Integer> durable = new HashMap<>();
        for (int round = 0; round < 6; round++) {
            Map<Integer, CompletableFuture<Void>> inFlight = new HashMap<>();
            Map<Integer, Boolean> fua = new HashMap<>();
            for (int i = 0; i < 24; i++) {
                int block = random.nextInt(blocks);
                if (inFlight.containsKey(block)) {
                    continue;
                }
                byte[] data = bytes(random);
                history.computeIfAbsent(block, b -> new ArrayList<>()).add(data);
                fua.put(block, random.nextInt(4) == 0 && !(afterFlush && round == 5)); // a FUA would wait out the stall
                inFlight.put(block, controller.write((long) block * BLOCK, ByteBuffer.wrap(data), fua.get(block)));
            }
            for (Map.Entry<Integer, CompletableFuture<Void>> e : inFlight.entrySet()) {
                e.getValue().get(10, TimeUnit.SECONDS);
                if (fua.get(e.getKey())) {
                    durable.put(e.getKey(), history.get(e.getKey()).size());
                }
            }
            if (round == 4 && afterFlush) {
                controller.flush().get(10, TimeUnit.SECONDS);
                if (mode == JournalMode.DATA) {
                    // The journal's disk stalls from here: a data journal's FLUSH waits for it. (A
                    // commands journal's FLUSH syncs the members, and its writes would wait for marks.)
                    stall.set(new java.util.concurrent.CountDownLatch(1));
                }
            } else if (random.nextInt(3) == 0 || (round == 5 && afterFlush)) {
                CompletableFuture<Void> flush = controller.flush();
                if (afterFlush) {
                    try {
                        flush.get(300, TimeUnit.MILLISECONDS);
                    } catch (java.util.concurrent.TimeoutException stalled) {
                        stall.get().countDown(); // the FLUSH waited for the disk, as it must; let it finish
                    }
                }
                flush.get(10, TimeUnit.SECONDS);
                history.forEach((block, versions) -> durable.put(block, versions.size()));
            }
        }
        if (afterFlush) {
            // The power goes the moment the FLUSH is answered, while writes may still be on their way
            // to the members and the disk: the journal alone must hold everything the FLUSH promised.
            powerOff.set(true);
            power.arm(1);
            stall.get().countDown();
        }

        // Writes in flight when the power goes: it goes at a random member write among them.
        Map<Integer, CompletableFuture<Boolean>> last = new HashMap<>();
        Map<Integer, Boolean> lastFua = new HashMap<>();
        if (!afterFlush && broken != DirtyRegions.Broken.CLEAR_BEFORE_SYNC) {
            power.arm(1 + random.nextInt(60), random.nextBoolean());
        }
        if (broken == DirtyRegions.Broken.WRITE_BEFORE_MARK_DURABLE) {
            // The journal's syncs lag behind the member writes, as a busy journal disk's do: only the
            // broken rule lets a write past a mark that is not durable yet.
            stall.set(new java.util.concurrent.CountDownLatch(1));
        }
        for (int i = 0; afterFlush ? i < 0 : i < 32; i++) {
            int block = random.nextInt(blocks);
            if (last.containsKey(block)) {
                continue;
            }
            byte[] data = bytes(random);
            history.computeIfAbsent(block, b -> new ArrayList<>()).add(data);
            lastFua.put(block, random.nextBoolean());
            // Answered before the power went, or not: this test's threads run on after it, a real
            // machine's would not, so an answer after the switch fired never reached a client.
            last.put(block, controller.write((long) block * BLOCK, ByteBuffer.wrap(data), lastFua.get(block))
                    .thenApply(v -> !power.fired()));
        }
        for (Map.Entry<Integer, CompletableFuture<Boolean>> e : last.entrySet()) {
            try {
                boolean answeredBeforePowerLoss = e.getValue().get(10, TimeUnit.SECONDS);
                if (answeredBeforePowerLoss && lastFua.get(e.getKey())) {
                    durable.put(e.getKey(), history.get(e.getKey()).size()); // FUA answered: must survive
                }
            } catch (ExecutionException cutOff) {
                // never answered
            }
        }
        if (controller instanceof JournaledController j) {
            j.awaitIdle(); // every write has reached the members or met the power loss
        }
        if (broken == DirtyRegions.Broken.CLEAR_BEFORE_SYNC && controller instanceof CommandController c) {
            // A retire cycle now, with the last writes answered but only in the members' page
            // cache: the broken one retires their records and clears their marks anyway.
            try {
                c.retireNow();
            } catch (IOException | RuntimeException dead) {
                // the power may be gone already
            }
        }
        for (PowerLossDevice d : raw) {
            d.powerLoss(random);
        }
        powerOff.set(true);
        stall.get().countDown(); // a sync stalled till now completes after the power went: it never happened
        try {
            controller.close();
        } catch (Exception expected) {
            journal.close();
        }
        assertThat(power.fired() || afterFlush || broken == DirtyRegions.Broken.CLEAR_BEFORE_SYNC)
                .as("the power loss happened among the last writes").isTrue();
        Files.copy(lastSynced, journalFile, StandardCopyOption.REPLACE_EXISTING);
        Files.deleteIfExists(Path.of(journalFile + ".clean"));

        RaidVolume restarted = failed < 0 ? RaidVolumes.open(g, raw) : Degraded.without(g, raw, failed);
        try (Journal reopened = Journal.open(new JournalOptions(journalFile, g.arrayUuid(), g.name(), journalUuid,
                2 << 20, false, false, JournalOptions.SyncHook.NONE, mode))) {
            JournalReplay.recover(reopened, restarted);
        }
        List<String> wrong = new ArrayList<>();
        check(restarted, history, durable, blocks).forEach(b -> wrong.add("seed " + seed + ": " + b));
        long mismatches = restarted.scrub(0, g.stripes(), false, 0, (d, t) -> { }).mismatches();
        if (mismatches > 0) {
            wrong.add("seed " + seed + ": " + mismatches + " parity mismatches");
        }
        for (int missing = 0; missing < MEMBERS && failed < 0; missing++) {
            RaidVolume degraded = Degraded.without(g, raw, missing);
            for (String b : check(degraded, history, durable, blocks)) {
                wrong.add("seed " + seed + ", slot " + missing + " removed: " + b);
            }
        }
        return wrong;
    }

    /**
     * Blocks holding something other than a version from their last durable one on, whole; a
     * block never written must still be zeroes (a stripe's lying parity damages its neighbours).
     */
    static List<String> check(RaidVolume volume, Map<Integer, List<byte[]>> history,
                                      Map<Integer, Integer> durable, int blocks) throws Exception {
        List<String> wrong = new ArrayList<>();
        for (int block = 0; block < blocks; block++) {
            List<byte[]> versions = history.getOrDefault(block, List.of());
            int firstAllowed = durable.getOrDefault(block, 0) - 1; // -1: the zeroes before any write
            ByteBuffer got = ByteBuffer.allocate(BLOCK);
            volume.read(got, (long) block * BLOCK);
            boolean ok = false;
            for (int v = Math.max(firstAllowed, -1); v < versions.size() && !ok; v++) {
                ok = java.util.Arrays.equals(got.array(), v < 0 ? new byte[BLOCK] : versions.get(v));
            }
            if (!ok) {
                wrong.add("block " + block + " (" + versions.size() + " versions, " + (firstAllowed + 1) + " durable)");
            }
        }
        return wrong;
    }

    private static byte[] bytes(Random random) {
        byte[] b = new byte[BLOCK];
        random.nextBytes(b);
        return b;
    }
}
