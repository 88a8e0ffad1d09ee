package io.parityd.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parityd.block.BlockDevice;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The degraded stripe's write hole, closed by {@link Preimage}s: what a partial write of a
 * degraded stripe saves before it touches a member, and how {@link RaidVolume#restoreParity}
 * brings a stripe that a crash left with lying parity back to its lost chunks' contents.
 */
class PreimageTest {

    private static final int CHUNK = 4096;
    private static final int STRIPES = 16;

    /** Everything a volume handed its log, copied (the images are valid only during the call). */
    private static final class Saved implements PreimageLog {
        final List<Preimage> all = new ArrayList<>();

        @Override
        public void save(Preimage p) {
            all.add(Preimage.decode(p.encode()));
        }
    }

    @Test
    void shouldRoundTripTheEncodedFormAndRefuseWhatIsNotOne() {
        byte[] images = new byte[2 * 100];
        new SplittableRandom(1).nextBytes(images);
        Preimage p = new Preimage(12345, 512, 100, 0b1010, ByteBuffer.wrap(images));
        Preimage back = Preimage.decode(p.encode());
        assertThat(back.stripe()).isEqualTo(12345);
        assertThat(back.column()).isEqualTo(512);
        assertThat(back.length()).isEqualTo(100);
        assertThat(back.lostData()).isEqualTo(0b1010);
        assertThat(bytes(back.images())).isEqualTo(images);
        assertThat(back.imageAt(1)).isZero();
        assertThat(back.imageAt(3)).isEqualTo(100);

        assertThatThrownBy(() -> Preimage.decode(ByteBuffer.allocate(10))).hasMessageContaining("shorter than its header");
        ByteBuffer torn = p.encode();
        torn.limit(torn.limit() - 1);
        assertThatThrownBy(() -> Preimage.decode(torn)).hasMessageContaining("has 199 bytes of images");
        assertThatThrownBy(() -> new Preimage(1, 0, 100, 0, ByteBuffer.allocate(0))).hasMessageContaining("is not a preimage");
    }

    @Test
    void shouldSaveExactlyTheLostChunkOverTheColumnsAPartialWriteChanges() throws Exception {
        ArrayGeometry g = geometry(5, 4);
        Layout layout = new Layout(g);
        List<MemoryDevice> media = media(g);
        byte[] model = random((int) g.volumeSize(), 1);
        int faulty = 2;
        Saved saved = new Saved();
        RaidVolume volume = without(g, media, faulty);
        volume.logPreimagesTo(saved);
        volume.write(ByteBuffer.wrap(model), 0, false);
        // Full-stripe writes: the lost chunk's image is the write's own bytes for it, one per
        // stripe whose lost member held data (not parity).
        long dataLost = 0;
        for (long s = 0; s < g.stripes(); s++) {
            dataLost += layout.parityMember(s) != faulty ? 1 : 0;
        }
        assertThat(saved.all).as("images of full-stripe writes").hasSize((int) dataLost);
        for (Preimage full : saved.all) {
            int role = Long.numberOfTrailingZeros(full.lostData());
            int from = (int) (full.stripe() * g.stripeDataSize()) + role * CHUNK;
            assertThat(full.column()).isZero();
            assertThat(bytes(full.images())).isEqualTo(Arrays.copyOfRange(model, from, from + CHUNK));
        }
        saved.all.clear();

        long stripe = stripeWhere(layout, s -> layout.parityMember(s) != faulty);
        int lostRole = roleOf(layout, stripe, faulty);
        int writtenRole = lostRole == 0 ? 1 : 0;
        long at = stripe * g.stripeDataSize() + (long) writtenRole * CHUNK + 512;
        volume.write(ByteBuffer.wrap(random(1024, 2)), at, false);

        assertThat(saved.all).hasSize(1);
        Preimage p = saved.all.get(0);
        assertThat(p.stripe()).isEqualTo(stripe);
        assertThat(p.column()).isEqualTo(512);
        assertThat(p.length()).isEqualTo(1024);
        assertThat(p.lostData()).isEqualTo(1L << lostRole);
        int lostAt = (int) (stripe * g.stripeDataSize()) + lostRole * CHUNK + 512;
        assertThat(bytes(p.images())).as("the lost chunk's contents, reconstructed")
                .isEqualTo(Arrays.copyOfRange(model, lostAt, lostAt + 1024));

        long parityStripe = stripeWhere(layout, s -> layout.parityMember(s) == faulty);
        volume.write(ByteBuffer.wrap(random(1024, 3)), parityStripe * g.stripeDataSize() + 512, false);
        assertThat(saved.all).as("only parity lost: recovery recomputes it from the data").hasSize(1);

        // A write to the lost chunk itself: its image is the chunk after the write, the new bytes.
        byte[] intoLost = random(1024, 5);
        volume.write(ByteBuffer.wrap(intoLost), lostAt, false);
        assertThat(saved.all).hasSize(2);
        assertThat(bytes(saved.all.get(1).images())).as("the lost chunk once the write is done").isEqualTo(intoLost);
    }

    @Test
    void shouldSaveWhatARunningRebuildHasNotRecordedYet() throws Exception {
        ArrayGeometry g = geometry(5, 4);
        Layout layout = new Layout(g);
        List<MemoryDevice> media = media(g);
        byte[] model = random((int) g.volumeSize(), 4);
        try (RaidVolume healthy = RaidVolumes.open(g, media)) {
            healthy.write(ByteBuffer.wrap(model), 0, false);
        }
        int slot = 1;
        List<MemberState> states = new ArrayList<>(Collections.nCopies(4, MemberState.ACTIVE));
        states.set(slot, MemberState.REBUILDING);
        long[] positions = new long[4];
        positions[slot] = 8;
        AbstractRaidVolume volume = (AbstractRaidVolume) RaidVolumes.openHeld(g, media, states, positions,
                SlotListener.NONE);
        Saved saved = new Saved();
        volume.logPreimagesTo(saved);
        long below = stripeWhere(layout, s -> s < 8 && layout.parityMember(s) != slot);
        long above = stripeWhere(layout, s -> s >= 8 && s < 12 && layout.parityMember(s) != slot);
        int lostRole = roleOf(layout, above, slot);
        int writtenRole = lostRole == 0 ? 1 : 0;

        volume.write(ByteBuffer.wrap(random(512, 5)), below * g.stripeDataSize() + (long) writtenRole * CHUNK, false);
        assertThat(saved.all).as("below the recorded position the member is whole, after a crash too").isEmpty();

        volume.members.advance(slot, 12); // rebuilt to 12; the superblocks still say 8
        volume.write(ByteBuffer.wrap(random(512, 6)), above * g.stripeDataSize() + (long) writtenRole * CHUNK, false);
        assertThat(saved.all).as("rebuilt but not recorded: a restart would reconstruct it").hasSize(1);
        int lostAt = (int) (above * g.stripeDataSize()) + lostRole * CHUNK;
        assertThat(bytes(saved.all.get(0).images())).as("read from the rebuilding member itself")
                .isEqualTo(Arrays.copyOfRange(model, lostAt, lostAt + 512));

        volume.members.rebuildRecorded(slot, 12);
        volume.write(ByteBuffer.wrap(random(512, 7)), above * g.stripeDataSize() + (long) writtenRole * CHUNK, false);
        assertThat(saved.all).as("recorded: nothing more to save").hasSize(1);
        volume.close();
    }

    /**
     * A crash between a degraded stripe's data write and its parity write, made by hand: the
     * new data reaches its member, the parity does not. The lost chunk then reads wrong (the
     * hole), and the preimage restores it.
     */
    @ParameterizedTest(name = "RAID-{0}")
    @ValueSource(ints = {5, 6})
    void shouldRestoreTheLostChunksOfAStripeACrashLeftWithLyingParity(int level) throws Exception {
        int members = level == 6 ? 6 : 5;
        ArrayGeometry g = geometry(level, members);
        Layout layout = new Layout(g);
        List<MemoryDevice> media = media(g);
        byte[] model = random((int) g.volumeSize(), 8);
        try (RaidVolume healthy = RaidVolumes.open(g, media)) {
            healthy.write(ByteBuffer.wrap(model), 0, false);
        }
        long stripe = 5;
        int[] lost = level == 6 ? new int[] {layout.dataMember(stripe, 1), layout.dataMember(stripe, 3)}
                : new int[] {layout.dataMember(stripe, 2)};
        RaidVolume volume = without(g, media, lost);
        Saved saved = new Saved();
        volume.logPreimagesTo(saved);
        byte[] fresh = random(2048, 9);
        long at = stripe * g.stripeDataSize() + 1024; // data role 0, columns 1024..3072
        volume.write(ByteBuffer.wrap(fresh.clone()), at, false);
        assertThat(saved.all).hasSize(1);
        Preimage p = saved.all.get(0);

        // The crash: the old contents back on role 0's member, parity as the write left it, then
        // the new data reaches the member while the parity never gets the matching update.
        int dataMember = layout.dataMember(stripe, 0);
        media.get(dataMember).write(ByteBuffer.wrap(model, (int) at, 2048), layout.memberOffset(stripe, 1024), false);
        volume.close();
        restoreOldParity(g, layout, media, model, stripe);
        media.get(dataMember).write(ByteBuffer.wrap(fresh), layout.memberOffset(stripe, 1024), false);

        byte[] expected = model.clone();
        System.arraycopy(fresh, 0, expected, (int) at, fresh.length);
        try (RaidVolume broken = without(g, media, lost)) {
            assertThat(differences(read(broken), expected)).as("the hole: the lost chunks read wrong").isPositive();
        }
        try (RaidVolume restarted = without(g, media, lost)) {
            assertThat(restarted.restoreParity(p)).isTrue();
            assertThat(differences(read(restarted), expected)).as("wrong bytes after the restore").isZero();
        }
    }

    @Test
    void shouldRefuseToRestoreWhatThePreimageDoesNotCover() throws Exception {
        ArrayGeometry g = geometry(5, 4);
        Layout layout = new Layout(g);
        List<MemoryDevice> media = media(g);
        long stripe = 3;
        int missing = layout.dataMember(stripe, 1);
        try (RaidVolume volume = without(g, media, missing)) {
            Preimage ofAnotherRole = new Preimage(stripe, 0, 512, 1L << 2, ByteBuffer.allocate(512));
            assertThat(volume.restoreParity(ofAnotherRole)).as("role 1 is lost and not in the preimage").isFalse();
            Preimage outside = new Preimage(g.stripes(), 0, 512, 1L << 1, ByteBuffer.allocate(512));
            assertThatThrownBy(() -> volume.restoreParity(outside)).hasMessageContaining("does not fit");
        }
    }

    @Test
    void shouldHoldRebuildsUntilAsked() throws Exception {
        ArrayGeometry g = geometry(5, 4);
        List<MemoryDevice> media = media(g);
        List<MemberState> states = new ArrayList<>(Collections.nCopies(4, MemberState.ACTIVE));
        states.set(3, MemberState.REBUILDING);
        RecordingListener listener = new RecordingListener();
        try (RaidVolume volume = RaidVolumes.openHeld(g, media, states, new long[4], listener)) {
            assertThat(volume.rebuildPosition(3)).as("no rebuild runs before resumeRebuilds").isEqualTo(-1);
            assertThat(volume.slots().get(3).state()).isEqualTo(MemberState.REBUILDING);
            volume.resumeRebuilds();
            listener.awaitFinished(3);
            assertThat(volume.slots().get(3).state()).isEqualTo(MemberState.ACTIVE);
        }
    }

    /** Puts back the parity the stripe had under {@code model}, as before the write. */
    private static void restoreOldParity(ArrayGeometry g, Layout layout, List<MemoryDevice> media, byte[] model,
                                         long stripe) throws Exception {
        List<MemoryDevice> scratch = media(g);
        try (RaidVolume clean = RaidVolumes.open(g, scratch)) {
            clean.write(ByteBuffer.wrap(model), 0, false);
        }
        for (int role = layout.dataChunks(); role < layout.roles(); role++) {
            int m = layout.memberOfRole(stripe, role);
            ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
            scratch.get(m).read(chunk, layout.memberOffset(stripe, 0));
            media.get(m).write(chunk.flip(), layout.memberOffset(stripe, 0), false);
        }
    }

    private static ArrayGeometry geometry(int level, int members) {
        return new ArrayGeometry(UUID.randomUUID(), "pre", level, CHUNK, members, 0, (long) STRIPES * CHUNK);
    }

    private static List<MemoryDevice> media(ArrayGeometry g) {
        List<MemoryDevice> media = new ArrayList<>();
        for (int i = 0; i < g.memberCount(); i++) {
            media.add(new MemoryDevice("m" + i, (int) g.memberDataSize()));
        }
        return media;
    }

    private static RaidVolume without(ArrayGeometry g, List<? extends BlockDevice> media, int... faulty) {
        List<BlockDevice> devices = new ArrayList<>(media);
        List<MemberState> states = new ArrayList<>(Collections.nCopies(media.size(), MemberState.ACTIVE));
        for (int slot : faulty) {
            devices.set(slot, null);
            states.set(slot, MemberState.FAULTY);
        }
        return RaidVolumes.open(g, devices, states, null, SlotListener.NONE);
    }

    private static long stripeWhere(Layout layout, java.util.function.LongPredicate wanted) {
        for (long s = 0; s < STRIPES; s++) {
            if (wanted.test(s)) {
                return s;
            }
        }
        throw new AssertionError("no such stripe");
    }

    private static int roleOf(Layout layout, long stripe, int member) {
        for (int role = 0; role < layout.roles(); role++) {
            if (layout.memberOfRole(stripe, role) == member) {
                return role;
            }
        }
        throw new AssertionError("member " + member + " has no role in stripe " + stripe);
    }

    private static byte[] read(RaidVolume volume) throws Exception {
        ByteBuffer b = ByteBuffer.allocate((int) volume.size());
        volume.read(b, 0);
        return b.array();
    }

    private static long differences(byte[] a, byte[] b) {
        long n = 0;
        for (int i = 0; i < a.length; i++) {
            n += a[i] != b[i] ? 1 : 0;
        }
        return n;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static byte[] random(int length, long seed) {
        byte[] b = new byte[length];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }
}
