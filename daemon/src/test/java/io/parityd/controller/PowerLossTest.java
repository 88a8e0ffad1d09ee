package io.parityd.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.block.BlockDevice;
import io.parityd.block.CrashSwitch;
import io.parityd.block.CrashingDevice;
import io.parityd.block.PowerLossDevice;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalOptions;
import io.parityd.raid.ArrayGeometry;
import io.parityd.raid.RaidVolume;
import io.parityd.raid.RaidVolumes;
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
import org.junit.jupiter.params.provider.ValueSource;

/**
 * G1 under power loss: members and journal lose everything no sync covered. Members are
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

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void shouldKeepEveryAcknowledgedWriteAndConsistentParityAfterPowerLoss(long seed) throws Exception {
        powerLoss(seed, false);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {11, 12, 13, 14})
    void shouldKeepEverythingAFlushPromisedWhenThePowerGoesRightAfterIt(long seed) throws Exception {
        powerLoss(seed, true);
    }

    /**
     * Degraded: a slot recorded faulty from the start. A power loss in the middle of a stripe
     * write must not take the lost slot's chunks with it, written or not (the preimages). No
     * stalled-disk case here: a degraded stripe write waits on the I/O thread for its preimage's
     * sync, so while the disk stalls new writes queue behind those threads and are not answered,
     * which that case's script counts on.
     */
    @ParameterizedTest(name = "seed {0}, slot {0} mod 6 faulty")
    @ValueSource(longs = {21, 22, 23, 24, 25, 26})
    void shouldLoseNothingOfADegradedArrayAtPowerLoss(long seed) throws Exception {
        powerLoss(seed, false, (int) (seed % MEMBERS));
    }

    private void powerLoss(long seed, boolean afterFlush) throws Exception {
        powerLoss(seed, afterFlush, -1);
    }

    /** @param failed the slot recorded faulty throughout, or -1 */
    private void powerLoss(long seed, boolean afterFlush, int failed) throws Exception {
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
        Path journalFile = dir.resolve("power.nvram");
        Path lastSynced = dir.resolve("power.nvram.synced");
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
                false, snapshot));
        UUID journalUuid = journal.uuid();
        RaidVolume volume = failed < 0 ? RaidVolumes.open(g, wired) : Degraded.without(g, wired, failed);
        JournaledController controller = new JournaledController(volume, journal, 8);

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
                stall.set(new java.util.concurrent.CountDownLatch(1)); // the disk stalls from here
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
        if (!afterFlush) {
            power.arm(1 + random.nextInt(60), random.nextBoolean());
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
        controller.awaitIdle(); // every write has reached the members or met the power loss
        for (PowerLossDevice d : raw) {
            d.powerLoss(random);
        }
        try {
            controller.close();
        } catch (Exception expected) {
            journal.close();
        }
        assertThat(power.fired() || afterFlush).as("the power loss happened among the last writes").isTrue();
        Files.copy(lastSynced, journalFile, StandardCopyOption.REPLACE_EXISTING);
        Files.deleteIfExists(Path.of(journalFile + ".clean"));

        RaidVolume restarted = failed < 0 ? RaidVolumes.open(g, raw) : Degraded.without(g, raw, failed);
        try (Journal reopened = Journal.open(new JournalOptions(journalFile, g.arrayUuid(), g.name(), journalUuid,
                2 << 20, false, false, JournalOptions.SyncHook.NONE))) {
            JournalReplay.replay(reopened, restarted);
        }
        assertThat(check(restarted, history, durable, blocks)).as("blocks wrong after recovery").isEmpty();
        assertThat(restarted.scrub(0, g.stripes(), false, 0, (d, t) -> { }).mismatches()).as("parity mismatches").isZero();
        for (int missing = 0; missing < MEMBERS && failed < 0; missing++) {
            RaidVolume degraded = Degraded.without(g, raw, missing);
            assertThat(check(degraded, history, durable, blocks)).as("with slot %d removed", missing).isEmpty();
        }
    }

    /**
     * Blocks holding something other than a version from their last durable one on, whole; a
     * block never written must still be zeroes (a stripe's lying parity damages its neighbours).
     */
    private static List<String> check(RaidVolume volume, Map<Integer, List<byte[]>> history,
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
