package io.parityd.service;

import io.parityd.admin.ArrayControl;
import io.parityd.admin.ArrayStatus;
import io.parityd.admin.ControlException;
import io.parityd.controller.Role;
import io.parityd.raid.ArrayGeometry;
import java.nio.file.Path;
import java.util.List;

/**
 * The admin socket of a controller of an HA pair: {@code status} always (its role, epoch and
 * peer, and the array as the primary runs it); the operations ({@code fail}, {@code replace},
 * {@code add-spare}, {@code scrub}) only while it is primary, since only the primary opens the
 * members. A standby refuses them and says where to go.
 */
final class ControllerControl implements ArrayControl {

    private final ControllerService node;

    ControllerControl(ControllerService node) {
        this.node = node;
    }

    @Override
    public ArrayStatus status() {
        PrimaryRole p = node.primaryRole();
        Role role = node.roles.role();
        ArrayStatus base;
        ArrayStatus.PeerStatus peer;
        long checkpoint = -1;
        if (p != null) {
            base = p.operations().status();
            peer = new ArrayStatus.PeerStatus("peer", "", p.standbyState(), -1, -1);
            checkpoint = p.checkpointMicros();
        } else {
            ArrayGeometry g = node.probe.geometry();
            io.parityd.nvram.JournalStats st = node.journal.stats();
            ArrayStatus.JournalStatus journal = new ArrayStatus.JournalStatus(node.journal.path().toString(),
                    node.settings.journal().nonVolatile(), st.capacityBytes(), st.usedBytes(), st.records(),
                    st.waiting(), st.syncs(), 0, 0, 0, 0);
            base = new ArrayStatus(g.name(), g.arrayUuid(), g.level(), g.chunkSize(), g.volumeSize(),
                    "controller " + role.name().toLowerCase(java.util.Locale.ROOT), List.of(), List.of(), List.of(),
                    null, null, journal);
            peer = new ArrayStatus.PeerStatus("peer", "", role == Role.STANDBY ? "holding its writes"
                    : role == Role.RESYNCING ? "copying its journal" : "none", -1, -1);
        }
        ArrayStatus.PeerStatus front = new ArrayStatus.PeerStatus("front", "", node.frontChannel() == null
                ? "not connected" : "connected", -1, -1);
        return base.withHa(new ArrayStatus.HaStatus("controller " + node.settings.id(), role.name(), node.roles.epoch(),
                node.roles.inSyncEpoch(), checkpoint, 0, 0, List.of(front, peer)));
    }

    @Override
    public void fail(String member, boolean force) throws ControlException {
        primary().fail(member, force);
    }

    @Override
    public void replace(String member, Path replacement) throws ControlException {
        primary().replace(member, replacement);
    }

    @Override
    public void reAdd(Path member) throws ControlException {
        primary().reAdd(member);
    }

    @Override
    public void addSpare(Path spare) throws ControlException {
        primary().addSpare(spare);
    }

    @Override
    public void scrub(boolean repair) throws ControlException {
        primary().scrub(repair);
    }

    private ArrayOperations primary() throws ControlException {
        PrimaryRole p = node.primaryRole();
        if (p == null) {
            throw new ControlException("controller " + node.settings.id() + " is " + node.roles.role()
                    + ", not primary, and does not open the members: ask the primary controller's admin socket"
                    + " (parityd status on each shows its role)");
        }
        return p.operations();
    }
}
