package io.parityd.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.block.BlockDevice;
import io.parityd.block.CrashSwitch;
import io.parityd.block.CrashingDevice;
import io.parityd.block.PowerLossDevice;
import io.parityd.nvram.Journal;
import io.parityd.nvram.JournalOptions;
import io.parityd.raid.ArrayGeometry;
import io.parityd.raid.MemberState;
import io.parityd.raid.RaidVolume;
import io.parityd.raid.RaidVolumes;
import io.parityd.raid.SlotListener;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
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
 * replaced by the copy taken at its last completed sync. Every write acknowledged — before a
 * FLUSH, with FUA, or neither (its journal record was durable before the reply) — must read back
 * after recovery; writes in flight at the power loss read back old or new; a scrub finds no
 * parity mismatch; and with any one member removed every block still reads right.
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
        JournalOptions.SyncHook snapshot = file -> {
            if (!power.fired()) {
                Files.copy(file, lastSynced, StandardCopyOption.REPLACE_EXISTING);
            }
        };
        Journal journal = Journal.open(new JournalOptions(journalFile, g.arrayUuid(), g.name(), null, 2 << 20, false,
                false, snapshot));
        UUID journalUuid = journal.uuid();
        JournaledController controller = new JournaledController(RaidVolumes.open(g, wired), journal, 8);

        // Acknowledged writes, pipelined: FUA on some, a FLUSH now and then, the rest neither.
        Map<Integer, byte[]> acked = new HashMap<>();
        for (int round = 0; round < 6; round++) {
            Map<Integer, CompletableFuture<Void>> inFlight = new HashMap<>();
            Map<Integer, byte[]> written = new HashMap<>();
            for (int i = 0; i < 24; i++) {
                int block = random.nextInt(blocks);
                if (inFlight.containsKey(block)) {
                    continue;
                }
                byte[] data = bytes(random);
                written.put(block, data);
                inFlight.put(block, controller.write((long) block * BLOCK, ByteBuffer.wrap(data), random.nextInt(4) == 0));
            }
            for (Map.Entry<Integer, CompletableFuture<Void>> e : inFlight.entrySet()) {
                e.getValue().get(10, TimeUnit.SECONDS);
                acked.put(e.getKey(), written.get(e.getKey()));
            }
            if (random.nextInt(3) == 0) {
                controller.flush().get(10, TimeUnit.SECONDS);
            }
        }

        // Writes in flight when the power goes: it goes at a random member write among them.
        Map<Integer, byte[]> unacked = new HashMap<>();
        Map<Integer, CompletableFuture<Void>> last = new HashMap<>();
        power.arm(1 + random.nextInt(60), random.nextBoolean());
        for (int i = 0; i < 32; i++) {
            int block = random.nextInt(blocks);
            if (unacked.containsKey(block)) {
                continue;
            }
            byte[] data = bytes(random);
            unacked.put(block, data);
            last.put(block, controller.write((long) block * BLOCK, ByteBuffer.wrap(data), false));
        }
        for (Map.Entry<Integer, CompletableFuture<Void>> e : last.entrySet()) {
            try {
                e.getValue().get(10, TimeUnit.SECONDS);
                acked.put(e.getKey(), unacked.remove(e.getKey())); // answered before the power went: must survive
            } catch (ExecutionException cutOff) {
                // never answered: old or new content both fine
            }
        }
        for (PowerLossDevice d : raw) {
            d.powerLoss(random);
        }
        try {
            controller.close();
        } catch (Exception expected) {
            journal.close();
        }
        assertThat(power.fired()).as("the power loss happened among the last writes").isTrue();
        Files.copy(lastSynced, journalFile, StandardCopyOption.REPLACE_EXISTING);
        Files.deleteIfExists(Path.of(journalFile + ".clean"));

        RaidVolume restarted = RaidVolumes.open(g, raw);
        try (Journal reopened = Journal.open(new JournalOptions(journalFile, g.arrayUuid(), g.name(), journalUuid,
                2 << 20, false, false, JournalOptions.SyncHook.NONE))) {
            JournalReplay.replay(reopened, restarted);
        }
        List<Integer> unackedBlocks = new ArrayList<>(unacked.keySet());
        List<String> wrong = check(restarted, acked, unacked, unackedBlocks);
        assertThat(wrong).as("blocks wrong after recovery").isEmpty();
        assertThat(restarted.scrub(0, g.stripes(), false, 0, (d, t) -> { }).mismatches()).as("parity mismatches").isZero();
        for (int missing = 0; missing < MEMBERS; missing++) {
            List<BlockDevice> without = new ArrayList<>(raw);
            without.set(missing, null);
            List<MemberState> states = new ArrayList<>(Collections.nCopies(MEMBERS, MemberState.ACTIVE));
            states.set(missing, MemberState.MISSING);
            RaidVolume degraded = RaidVolumes.open(g, without, states, null, SlotListener.NONE);
            assertThat(check(degraded, acked, unacked, unackedBlocks)).as("with slot %d removed", missing).isEmpty();
        }
    }

    /** Blocks whose content is not what the writes allow: acknowledged content, or old-or-new for one cut off. */
    private static List<String> check(RaidVolume volume, Map<Integer, byte[]> acked, Map<Integer, byte[]> unacked,
                                      List<Integer> unackedBlocks) throws Exception {
        List<String> wrong = new ArrayList<>();
        Set<Integer> all = new java.util.TreeSet<>(acked.keySet());
        all.addAll(unackedBlocks);
        for (int block : all) {
            ByteBuffer got = ByteBuffer.allocate(BLOCK);
            volume.read(got, (long) block * BLOCK);
            byte[] b = got.array();
            byte[] old = acked.getOrDefault(block, new byte[BLOCK]);
            byte[] fresh = unacked.get(block);
            boolean ok = java.util.Arrays.equals(b, old) || (fresh != null && java.util.Arrays.equals(b, fresh));
            if (!ok) {
                wrong.add("block " + block + (fresh != null ? " (in flight)" : " (acknowledged)"));
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
