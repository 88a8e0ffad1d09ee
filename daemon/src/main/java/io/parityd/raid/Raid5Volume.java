package io.parityd.raid;

import io.parityd.block.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The old name of a healthy RAID-5 volume, kept only until the service and the check command
 * call {@link RaidVolumes#open(ArrayGeometry, List)}; then delete it. Everything delegates to
 * the engine for all levels.
 *
 * @deprecated use {@link RaidVolumes#open(ArrayGeometry, List)}
 */
@Deprecated
public final class Raid5Volume implements RaidVolume {

    private final RaidVolume engine;

    public Raid5Volume(ArrayGeometry geometry, List<? extends BlockDevice> members) {
        if (geometry.level() != 5) {
            throw new IllegalArgumentException("Raid5Volume needs a level 5 geometry, got level " + geometry.level());
        }
        this.engine = RaidVolumes.open(geometry, members);
    }

    @Override
    public ArrayGeometry geometry() {
        return engine.geometry();
    }

    @Override
    public List<SlotView> slots() {
        return engine.slots();
    }

    @Override
    public int failedSlots() {
        return engine.failedSlots();
    }

    @Override
    public int redundancy() {
        return engine.redundancy();
    }

    @Override
    public void fail(int slot, IOException why) {
        engine.fail(slot, why);
    }

    @Override
    public void rebuild(int slot, BlockDevice device, long fromStripe) {
        engine.rebuild(slot, device, fromStripe);
    }

    @Override
    public long rebuildPosition(int slot) {
        return engine.rebuildPosition(slot);
    }

    @Override
    public ScrubReport scrub(long fromStripe, long toStripe, boolean repair, int maxReported,
                             ParityScrubber.Progress progress) throws IOException {
        return engine.scrub(fromStripe, toStripe, repair, maxReported, progress);
    }

    @Override
    public String describe() {
        return engine.describe();
    }

    @Override
    public long size() {
        return engine.size();
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        engine.read(dst, offset);
    }

    @Override
    public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        engine.write(src, offset, fua);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        engine.writeZeroes(offset, length, mayDeallocate, fua);
    }

    @Override
    public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
        return engine.zeroesFast(offset, length, mayDeallocate);
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        engine.trim(offset, length, fua);
    }

    @Override
    public void flush() throws IOException {
        engine.flush();
    }

    @Override
    public void close() throws IOException {
        engine.close();
    }
}
