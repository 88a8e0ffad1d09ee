package io.parityd.raid;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.block.BlockDevice;
import io.parityd.member.FileMember;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member file deleted while the volume serves: the kernel keeps taking writes into the
 * orphaned inode, so only the watch notices, and fails the slot as an I/O error would.
 */
class MemberWatchTest {

    private static final int CHUNK = 64 * 1024;
    private static final long DATA_OFFSET = 1 << 20;

    @TempDir
    Path dir;

    private final Map<Integer, IOException> failed = new ConcurrentHashMap<>();
    private RaidVolume volume;

    @AfterEach
    void close() throws IOException {
        if (volume != null) {
            volume.close();
        }
    }

    private RaidVolume open(int members) throws IOException {
        ArrayGeometry g = TestArray.geometry(5, members, CHUNK, DATA_OFFSET, 16);
        List<BlockDevice> devices = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            devices.add(FileMember.createSparse(dir.resolve("m" + i + ".img"), DATA_OFFSET + g.memberDataSize()));
        }
        volume = RaidVolumes.open(g, devices, Collections.nCopies(members, MemberState.ACTIVE), null, listener());
        return volume;
    }

    @Test
    void shouldFailAMemberWhoseFileIsDeletedWithinTheWatchInterval() throws Exception {
        RaidVolume v = open(3);
        byte[] data = new byte[2 * CHUNK];
        java.util.Arrays.fill(data, (byte) 7);
        v.write(ByteBuffer.wrap(data), 0, true);
        Files.delete(dir.resolve("m1.img"));
        long deleted = System.nanoTime();
        awaitFailed(1, MemberWatch.INTERVAL.multipliedBy(3));
        assertThat(Duration.ofNanos(System.nanoTime() - deleted)).isLessThan(MemberWatch.INTERVAL.multipliedBy(3));
        assertThat(failed.get(1).getMessage()).contains(dir.resolve("m1.img") + " was deleted");
        assertThat(v.slots().get(1).state()).isEqualTo(MemberState.FAULTY);
        assertThat(failed).as("only that one").containsOnlyKeys(1);

        ByteBuffer back = ByteBuffer.allocate(data.length);
        v.read(back, 0);
        assertThat(back.array()).as("served degraded, from the others").isEqualTo(data);
        v.write(ByteBuffer.wrap(data), 4 * CHUNK, true);
    }

    @Test
    void shouldLeaveMembersThatStillHaveANameAlone() throws Exception {
        RaidVolume v = open(3);
        Files.move(dir.resolve("m2.img"), dir.resolve("renamed.img"));
        assertThat(((AbstractRaidVolume) v).core.watch.checkNow()).isZero();
        assertThat(failed).isEmpty();
    }

    private SlotListener listener() {
        return new SlotListener() {
            @Override
            public void slotFailed(int slot, IOException cause) {
                failed.put(slot, cause);
            }

            @Override
            public void rebuildProgress(int slot, long stripes) {
            }

            @Override
            public void rebuildFinished(int slot) {
            }

            @Override
            public void rebuildStopped(int slot, long stripes, Exception cause) {
            }
        };
    }

    /** Polls, bounded: the watch runs on its own clock. */
    private void awaitFailed(int slot, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!failed.containsKey(slot)) {
            assertThat(System.nanoTime()).as("slot %d failed within %s", slot, within).isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }
}
