package io.parityd.controller;

import io.parityd.block.BlockDevice;
import io.parityd.raid.ArrayGeometry;
import io.parityd.raid.MemberState;
import io.parityd.raid.RaidVolume;
import io.parityd.raid.RaidVolumes;
import io.parityd.raid.SlotListener;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The write-hole check's last step: the same members with one of them taken away. */
final class Degraded {

    private Degraded() {
    }

    /** A volume over {@code members} with the slots {@code missing} absent, reconstructing them from the rest. */
    static RaidVolume without(ArrayGeometry g, List<? extends BlockDevice> members, int... missing) {
        List<BlockDevice> devices = new ArrayList<>(members);
        List<MemberState> states = new ArrayList<>(Collections.nCopies(members.size(), MemberState.ACTIVE));
        for (int slot : missing) {
            devices.set(slot, null);
            states.set(slot, MemberState.MISSING);
        }
        return RaidVolumes.open(g, devices, states, null, SlotListener.NONE);
    }
}
