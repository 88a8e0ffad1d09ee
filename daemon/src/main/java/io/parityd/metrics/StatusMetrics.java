package io.parityd.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.parityd.admin.ArrayStatus;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Gauges read from the status every process already builds for {@code parityd status} (so the
 * two never disagree): the array and its members, rebuilds and scrubs, the journal's fill and the
 * last recovery, and the process's place in an HA pair. The status is taken once per scrape
 * ({@link #refresh}) and every gauge reads that snapshot. Meters are registered once, at
 * construction, from the first snapshot's shape (slots, peers); enum-like values are one series
 * per value, 1 for the current one, as Prometheus's conventions have it.
 *
 * <pre>
 * parityd_array_info{name,uuid,level}                      1
 * parityd_array_size_bytes
 * parityd_array_state{state="clean|degraded|failed"}       1 for the current state
 * parityd_member_state{slot,state="active|faulty|missing|rebuilding"}  1 for the current state
 * parityd_spares
 * parityd_rebuild_progress_ratio{slot}                     0..1 while a rebuild of the slot runs, else 0
 * parityd_rebuild_rate_bytes_per_second{slot}
 * parityd_scrub_progress_ratio{kind="check|repair|resync"} 0..1 while one runs, else 0
 * parityd_journal_records, _used_bytes, _capacity_bytes, _waiting_requests
 * parityd_recovery_requests_replayed, _records_dropped, _stripes_resynced, _seconds   (last start)
 * parityd_ha_role{role}                                    1 for this process's role
 * parityd_ha_epoch, parityd_ha_in_sync_epoch
 * parityd_ha_checkpoint_round_trip_seconds                 primary: smoothed; -1 if unknown
 * parityd_ha_failovers_total                               front: promotions that replaced a primary
 *                                                          (each one's stall: parityd_ha_failover_seconds, in Metrics)
 * parityd_ha_outstanding_requests                          front: requests waiting for an answer
 * parityd_ha_peer_state{peer,state}                        1 for each peer's current state as seen here
 * parityd_ha_heartbeat_round_trip_seconds{peer}            front: -1 if unknown
 * </pre>
 */
public final class StatusMetrics {

    static final List<String> ARRAY_STATES = List.of("clean", "degraded", "failed");
    static final List<String> MEMBER_STATES = List.of("active", "faulty", "missing", "rebuilding");
    static final List<String> SCRUB_KINDS = List.of("check", "repair", "resync");
    static final List<String> ROLES = List.of("STARTING", "RESYNCING", "STANDBY", "PRIMARY", "FENCED", "STANDALONE",
            "front");
    /** Every state a peer can be reported in: the front's view of a controller, or a controller's of its peers. */
    static final List<String> PEER_STATES = List.of("DOWN", "UP", "PROMOTING", "PRIMARY", "SYNCING", "STANDBY",
            "connected", "not connected", "in sync", "copying", "none", "holding its writes", "copying its journal");

    private final Supplier<ArrayStatus> source;
    private volatile ArrayStatus snapshot;

    /**
     * @param slots the array's member count (the first snapshot may not list the members: a
     *              controller that is not primary does not open them); 0 where there are none (the front)
     */
    public StatusMetrics(MeterRegistry registry, Supplier<ArrayStatus> source, int slots) {
        this.source = source;
        this.snapshot = source.get();
        ArrayStatus first = snapshot;
        Gauge.builder("parityd.array.info", () -> 1).description("the array this process serves")
                .tag("name", first.name()).tag("uuid", String.valueOf(first.uuid()))
                .tag("level", Integer.toString(first.level())).register(registry);
        gauge(registry, "parityd.array.size", "bytes", "bytes the volume exports", s -> s.size());
        for (String state : ARRAY_STATES) {
            Gauge.builder("parityd.array.state", this, m -> m.snapshot.state().startsWith(state) ? 1 : 0)
                    .description("1 for the array's current state").tag("state", state).register(registry);
        }
        for (int slot0 = 0; slot0 < slots; slot0++) {
            int slot = slot0;
            for (String state : MEMBER_STATES) {
                Gauge.builder("parityd.member.state", this, m -> state.equals(m.memberState(slot)) ? 1 : 0)
                        .description("1 for the member's current state").tag("slot", Integer.toString(slot))
                        .tag("state", state).register(registry);
            }
            Gauge.builder("parityd.rebuild.progress", this, m -> m.rebuild(slot, true))
                    .description("fraction of the member rebuilt, while its rebuild runs; else 0").baseUnit("ratio")
                    .tag("slot", Integer.toString(slot)).register(registry);
            Gauge.builder("parityd.rebuild.rate", this, m -> m.rebuild(slot, false))
                    .description("bytes per second the member's rebuild writes, while it runs; else 0")
                    .baseUnit("bytes.per.second").tag("slot", Integer.toString(slot)).register(registry);
        }
        gauge(registry, "parityd.spares", null, "hot spares ready", s -> s.spares().size());
        for (String kind : SCRUB_KINDS) {
            Gauge.builder("parityd.scrub.progress", this, m -> m.scrub(kind)).baseUnit("ratio")
                    .description("fraction of the stripes walked by the running check, repair or resync; else 0")
                    .tag("kind", kind).register(registry);
        }
        if (first.journal() != null) {
            journal(registry);
        }
        if (first.ha() != null) {
            ha(registry, first.ha());
        }
    }

    private void journal(MeterRegistry registry) {
        gauge(registry, "parityd.journal.records", null, "records the write journal holds",
                s -> s.journal() == null ? 0 : s.journal().records());
        gauge(registry, "parityd.journal.used", "bytes", "bytes of write data the journal holds",
                s -> s.journal() == null ? 0 : s.journal().usedBytes());
        gauge(registry, "parityd.journal.capacity", "bytes", "bytes of write data the journal holds at most",
                s -> s.journal() == null ? 0 : s.journal().capacity());
        gauge(registry, "parityd.journal.waiting.requests", null, "requests waiting for room in a full journal",
                s -> s.journal() == null ? 0 : s.journal().waiting());
        gauge(registry, "parityd.recovery.requests.replayed", null, "requests the journal replay redid at the last start",
                s -> s.journal() == null ? 0 : s.journal().replayedRequests());
        gauge(registry, "parityd.recovery.records.dropped", null,
                "records the replay at the last start dropped (never synced, so never promised)",
                s -> s.journal() == null ? 0 : s.journal().droppedRecords());
        gauge(registry, "parityd.recovery.stripes.resynced", null, "stripes the replay at the last start resynced",
                s -> s.journal() == null ? 0 : s.journal().stripesResynced());
        gauge(registry, "parityd.recovery", "seconds", "how long the journal replay at the last start took",
                s -> s.journal() == null ? 0 : s.journal().recoveryMillis() / 1000.0);
    }

    private void ha(MeterRegistry registry, ArrayStatus.HaStatus first) {
        for (String role : ROLES) {
            Gauge.builder("parityd.ha.role", this, m -> m.snapshot.ha() != null && role.equals(m.snapshot.ha().role()) ? 1 : 0)
                    .description("1 for this process's role in the HA pair").tag("role", role).register(registry);
        }
        gauge(registry, "parityd.ha.epoch", null, "the fencing epoch this process acts in", s -> ha(s).epoch());
        gauge(registry, "parityd.ha.in.sync.epoch", null, "the epoch this controller's journal is in sync at",
                s -> ha(s).inSyncEpoch());
        gauge(registry, "parityd.ha.checkpoint.round.trip", "seconds",
                "primary: from a write's arrival to the standby's acknowledgement, smoothed; -1 if unknown",
                s -> ha(s).checkpointMicros() < 0 ? -1 : ha(s).checkpointMicros() / 1e6);
        FunctionCounter.builder("parityd.ha.failovers", this, m -> ha(m.snapshot).failovers())
                .description("front: promotions that replaced a primary that was lost").register(registry);
        gauge(registry, "parityd.ha.outstanding.requests", null, "front: requests waiting for a controller's answer",
                s -> ha(s).outstanding());
        for (ArrayStatus.PeerStatus peer : first.peers()) {
            String id = peer.id();
            for (String state : PEER_STATES) {
                Gauge.builder("parityd.ha.peer.state", this, m -> state.equals(m.peerState(id)) ? 1 : 0)
                        .description("1 for the state this process sees the peer in").tag("peer", id)
                        .tag("state", state).register(registry);
            }
            Gauge.builder("parityd.ha.heartbeat.round.trip", this, m -> m.peerRoundTrip(id)).baseUnit("seconds")
                    .description("front: the last heartbeat round trip to the controller; -1 if unknown")
                    .tag("peer", id).register(registry);
        }
    }

    private static ArrayStatus.HaStatus ha(ArrayStatus s) {
        return s.ha() != null ? s.ha() : new ArrayStatus.HaStatus("", "", 0, 0, -1, 0, 0, List.of());
    }

    private void gauge(MeterRegistry registry, String name, String unit, String description,
                       ToDoubleFunction<ArrayStatus> value) {
        Gauge.Builder<StatusMetrics> b = Gauge.builder(name, this, m -> value.applyAsDouble(m.snapshot))
                .description(description);
        if (unit != null) {
            b.baseUnit(unit);
        }
        b.register(registry);
    }

    /** Takes a new snapshot; the endpoint calls it once before each scrape. */
    public void refresh() {
        snapshot = source.get();
    }

    private String memberState(int slot) {
        for (ArrayStatus.MemberStatus m : snapshot.members()) {
            if (m.slot() == slot) {
                return m.state();
            }
        }
        return "";
    }

    private double rebuild(int slot, boolean progress) {
        String path = null;
        for (ArrayStatus.MemberStatus m : snapshot.members()) {
            if (m.slot() == slot) {
                path = m.path();
            }
        }
        for (ArrayStatus.TaskStatus t : snapshot.tasks()) {
            if (t.kind().equals("rebuild") && t.target() != null && t.target().equals(path)) {
                return progress ? (t.total() == 0 ? 0 : (double) t.done() / t.total()) : t.bytesPerSecond();
            }
        }
        return 0;
    }

    private double scrub(String kind) {
        for (ArrayStatus.TaskStatus t : snapshot.tasks()) {
            if (t.kind().equals(kind)) {
                return t.total() == 0 ? 0 : (double) t.done() / t.total();
            }
        }
        return 0;
    }

    private String peerState(String id) {
        for (ArrayStatus.PeerStatus p : ha(snapshot).peers()) {
            if (p.id().equals(id)) {
                return p.state();
            }
        }
        return "";
    }

    private double peerRoundTrip(String id) {
        for (ArrayStatus.PeerStatus p : ha(snapshot).peers()) {
            if (p.id().equals(id)) {
                return p.roundTripMicros() < 0 ? -1 : p.roundTripMicros() / 1e6;
            }
        }
        return -1;
    }
}
