package io.parityd.service;

import io.parityd.admin.ArrayControl;
import io.parityd.admin.ArrayStatus;
import io.parityd.admin.ControlException;
import io.parityd.front.ClusterFront;
import io.parityd.link.ArrayInfo;
import java.nio.file.Path;
import java.util.List;

/**
 * The admin socket of the front: {@code status} (every controller as the front sees it, the
 * epoch, failovers, requests waiting); the operations belong to the primary controller, which
 * opens the members, so the front refuses them and says so.
 */
final class FrontControl implements ArrayControl {

    private final ClusterFront cluster;
    private final ArrayInfo array;
    private final String export;

    private final io.parityd.protocol.PayloadBudget memory;

    FrontControl(ClusterFront cluster, ArrayInfo array, String export, io.parityd.protocol.PayloadBudget memory) {
        this.cluster = cluster;
        this.array = array;
        this.export = export;
        this.memory = memory;
    }

    @Override
    public ArrayStatus status() {
        ClusterFront.View view = cluster.view();
        String state = view.primary() == null ? "stalled: no primary controller" : "serving through " + view.primary();
        ArrayStatus base = new ArrayStatus(array.name(), array.arrayUuid(), 0, 0, array.size(), state, List.of(),
                List.of(), List.of(), export, null, null);
        return base.withHa(new ArrayStatus.HaStatus("front", "front", view.epoch(), 0, -1, view.failovers(),
                view.outstanding(), view.peers()))
                .withMemory(new ArrayStatus.RequestMemory(memory.capacity(), memory.used(), memory.waiting()));
    }

    @Override
    public void fail(String member, boolean force) throws ControlException {
        throw refused();
    }

    @Override
    public void replace(String member, Path replacement) throws ControlException {
        throw refused();
    }

    @Override
    public void reAdd(Path member) throws ControlException {
        throw refused();
    }

    @Override
    public void addSpare(Path spare) throws ControlException {
        throw refused();
    }

    @Override
    public void scrub(boolean repair) throws ControlException {
        throw refused();
    }

    private static ControlException refused() {
        return new ControlException("the front does not open the members: ask the primary controller's admin socket");
    }
}
