package io.parityd.raid;

import io.parityd.block.BlockDevice;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Opens a {@link RaidVolume} of any level over member devices: RAID-0/4/5/6 as a striped volume,
 * RAID-1 as a mirror. The one way in for the service, the check command and tests.
 */
public final class RaidVolumes {

    private RaidVolumes() {
    }

    /**
     * A healthy array: every slot ACTIVE, nobody listening (offline tools, tests).
     *
     * @param devices member devices by slot, each at least {@code dataOffset + memberDataSize} bytes
     */
    public static RaidVolume open(ArrayGeometry geometry, List<? extends BlockDevice> devices) {
        return open(geometry, devices, Collections.nCopies(devices.size(), MemberState.ACTIVE), null,
                SlotListener.NONE);
    }

    /**
     * An array as its superblocks describe it. Slots REBUILDING start rebuilding again at once, in
     * the background, from their persisted position.
     *
     * @param devicesBySlot    one entry per slot; null where no device is present (MISSING, or a
     *                         FAULTY slot whose device is gone)
     * @param states           per slot: ACTIVE, FAULTY, MISSING or REBUILDING
     * @param rebuildPositions per slot, the stripes already rebuilt of a REBUILDING slot; may be null
     *                         when no slot is REBUILDING
     * @param listener         told of member failures and rebuild progress, to persist them
     * @throws IllegalArgumentException if the lists do not fit the geometry, a serving slot has no
     *                                  device, or a device is too small
     */
    public static RaidVolume open(ArrayGeometry geometry, List<? extends BlockDevice> devicesBySlot,
                                  List<MemberState> states, long[] rebuildPositions, SlotListener listener) {
        return open(geometry, devicesBySlot, states, rebuildPositions, listener, new StripeLocks(),
                RebuildTuning.DEFAULT);
    }

    /**
     * As {@link #open(ArrayGeometry, List, List, long[], SlotListener)}, but REBUILDING slots wait
     * for {@link RaidVolume#resumeRebuilds()}: after an unclean stop the journal must be replayed
     * first, or a rebuild would compute new chunks from parity that a crash left stale.
     */
    public static RaidVolume openHeld(ArrayGeometry geometry, List<? extends BlockDevice> devicesBySlot,
                                      List<MemberState> states, long[] rebuildPositions, SlotListener listener) {
        return create(geometry, devicesBySlot, states, rebuildPositions, listener, new StripeLocks(),
                RebuildTuning.DEFAULT);
    }

    static RaidVolume open(ArrayGeometry geometry, List<? extends BlockDevice> devicesBySlot,
                           List<MemberState> states, long[] rebuildPositions, SlotListener listener,
                           StripeLocks locks, RebuildTuning tuning) {
        RaidVolume volume = create(geometry, devicesBySlot, states, rebuildPositions, listener, locks, tuning);
        volume.resumeRebuilds();
        return volume;
    }

    private static RaidVolume create(ArrayGeometry geometry, List<? extends BlockDevice> devicesBySlot,
                                     List<MemberState> states, long[] rebuildPositions, SlotListener listener,
                                     StripeLocks locks, RebuildTuning tuning) {
        MemberSlots members = new MemberSlots(geometry, new ArrayList<>(devicesBySlot), List.copyOf(states),
                rebuildPositions, listener);
        VolumeCore core = new VolumeCore(geometry, members, locks, listener, tuning);
        if (geometry.level() == 1) {
            return new MirrorVolume(core);
        }
        return new StripedVolume(core);
    }
}
