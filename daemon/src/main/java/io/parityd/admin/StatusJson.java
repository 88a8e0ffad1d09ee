package io.parityd.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.parityd.admin.ArrayStatus.JournalStatus;
import io.parityd.admin.ArrayStatus.MemberStatus;
import io.parityd.admin.ArrayStatus.ScrubResult;
import io.parityd.admin.ArrayStatus.TaskStatus;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The JSON form of {@link ArrayStatus}, written out field by field so the names stay stable
 * whatever the record's components are called (scripts read them: {@code parityd status --json}).
 * Every field is always present; absent values are {@code null}.
 *
 * <pre>
 * {"name":"vol0", "uuid":"…", "level":5, "chunk":65536, "size":67108864,
 *  "state":"clean|degraded|failed", "export":"nbd://127.0.0.1:10809/vol0",
 *  "members":[{"slot":0, "path":"/srv/m0.img", "state":"active|faulty|missing|rebuilding", "reason":null}],
 *  "spares":["/srv/s0.img"],
 *  "tasks":[{"kind":"rebuild|resync|check|repair", "target":"/srv/m9.img", "done":10, "total":100,
 *            "bytesPerSecond":1.5E7, "etaSeconds":12, "mismatches":0}],
 *  "lastScrub":{"kind":"check|repair", "done":100, "total":100, "mismatches":0, "repaired":0,
 *               "finished":"2026-11-25T01:30:00Z"} or null,
 *  "journal":{"path":"/srv/vol0.nvram", "nonVolatile":false, "capacity":268435456, "usedBytes":0, "records":0,
 *             "waiting":0, "syncs":12, "replayedRequests":3, "droppedRecords":0, "stripesResynced":4,
 *             "recoveryMillis":15, "mode":"commands|data", "marks":12, "writes":1000, "writesWaited":3}
 *             or null (--journal off),
 *  "ha":{"node":"controller a", "role":"PRIMARY", "epoch":5, "inSyncEpoch":5, "checkpointMicros":420,
 *        "failovers":0, "outstanding":0,
 *        "peers":[{"id":"b", "address":"", "state":"in sync", "epoch":5, "roundTripMicros":-1}]}
 *        or null (single-process mode),
 *  "requestMemory":{"capacity":268435456, "used":4096, "waiting":0} or null (no NBD server here)}
 * </pre>
 */
public final class StatusJson {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private StatusJson() {
    }

    public static ObjectNode toJson(ArrayStatus s) {
        ObjectNode json = NODES.objectNode()
                .put("name", s.name())
                .put("uuid", s.uuid() == null ? null : s.uuid().toString())
                .put("level", s.level())
                .put("chunk", s.chunk())
                .put("size", s.size())
                .put("state", s.state())
                .put("export", s.export());
        ArrayNode members = json.putArray("members");
        s.members().forEach(m -> members.addObject().put("slot", m.slot()).put("path", m.path())
                .put("state", m.state()).put("reason", m.reason()));
        ArrayNode spares = json.putArray("spares");
        s.spares().forEach(spares::add);
        ArrayNode tasks = json.putArray("tasks");
        s.tasks().forEach(t -> tasks.addObject().put("kind", t.kind()).put("target", t.target())
                .put("done", t.done()).put("total", t.total()).put("bytesPerSecond", t.bytesPerSecond())
                .put("etaSeconds", t.etaSeconds()).put("mismatches", t.mismatches()));
        json.set("lastScrub", scrubJson(s.lastScrub()));
        json.set("journal", journalJson(s.journal()));
        json.set("ha", haJson(s.ha()));
        json.set("requestMemory", s.memory() == null ? NODES.nullNode() : NODES.objectNode()
                .put("capacity", s.memory().capacity()).put("used", s.memory().used())
                .put("waiting", s.memory().waiting()));
        return json;
    }

    private static ArrayStatus.RequestMemory memory(JsonNode m) throws AdminException {
        if (m == null || m.isNull()) {
            return null;
        }
        requireObject(m, "requestMemory");
        return new ArrayStatus.RequestMemory(number(m, "capacity"), number(m, "used"), number(m, "waiting"));
    }

    private static JsonNode haJson(ArrayStatus.HaStatus h) {
        if (h == null) {
            return NODES.nullNode();
        }
        ObjectNode json = NODES.objectNode().put("node", h.node()).put("role", h.role()).put("epoch", h.epoch())
                .put("inSyncEpoch", h.inSyncEpoch()).put("checkpointMicros", h.checkpointMicros())
                .put("failovers", h.failovers()).put("outstanding", h.outstanding());
        ArrayNode peers = json.putArray("peers");
        h.peers().forEach(p -> peers.addObject().put("id", p.id()).put("address", p.address()).put("state", p.state())
                .put("epoch", p.epoch()).put("roundTripMicros", p.roundTripMicros()));
        return json;
    }

    private static ArrayStatus.HaStatus ha(JsonNode h) throws AdminException {
        if (h == null || h.isNull()) {
            return null;
        }
        requireObject(h, "ha");
        List<ArrayStatus.PeerStatus> peers = new ArrayList<>();
        for (JsonNode p : array(h, "peers")) {
            peers.add(new ArrayStatus.PeerStatus(text(p, "id"), text(p, "address"), text(p, "state"), number(p, "epoch"),
                    number(p, "roundTripMicros")));
        }
        return new ArrayStatus.HaStatus(text(h, "node"), text(h, "role"), number(h, "epoch"), number(h, "inSyncEpoch"),
                number(h, "checkpointMicros"), number(h, "failovers"), number(h, "outstanding"), peers);
    }

    private static JsonNode scrubJson(ScrubResult r) {
        if (r == null) {
            return NODES.nullNode();
        }
        return NODES.objectNode().put("kind", r.kind()).put("done", r.done()).put("total", r.total())
                .put("mismatches", r.mismatches()).put("repaired", r.repaired())
                .put("finished", r.finished() == null ? null : r.finished().toString());
    }

    private static JsonNode journalJson(JournalStatus j) {
        if (j == null) {
            return NODES.nullNode();
        }
        return NODES.objectNode().put("path", j.path()).put("nonVolatile", j.nonVolatile()).put("capacity", j.capacity())
                .put("usedBytes", j.usedBytes()).put("records", j.records()).put("waiting", j.waiting())
                .put("syncs", j.syncs()).put("replayedRequests", j.replayedRequests())
                .put("droppedRecords", j.droppedRecords()).put("stripesResynced", j.stripesResynced())
                .put("recoveryMillis", j.recoveryMillis()).put("mode", j.mode()).put("marks", j.marks())
                .put("writes", j.writes()).put("writesWaited", j.writesWaited());
    }

    private static JournalStatus journal(JsonNode j) throws AdminException {
        if (j == null || j.isNull()) {
            return null;
        }
        requireObject(j, "journal");
        JsonNode nonVolatile = field(j, "nonVolatile");
        if (!nonVolatile.isBoolean()) {
            throw new AdminException("status field 'nonVolatile' is not true or false");
        }
        return new JournalStatus(text(j, "path"), nonVolatile.booleanValue(), number(j, "capacity"),
                number(j, "usedBytes"), number(j, "records"), number(j, "waiting"), number(j, "syncs"),
                number(j, "replayedRequests"), number(j, "droppedRecords"), number(j, "stripesResynced"),
                number(j, "recoveryMillis"), text(j, "mode"), number(j, "marks"), number(j, "writes"),
                number(j, "writesWaited"));
    }

    /** Reads a status back; a missing or mistyped field is refused with its name. */
    public static ArrayStatus fromJson(JsonNode json) throws AdminException {
        requireObject(json, "status");
        List<MemberStatus> members = new ArrayList<>();
        for (JsonNode m : array(json, "members")) {
            members.add(new MemberStatus(integer(m, "slot"), text(m, "path"), text(m, "state"), text(m, "reason")));
        }
        List<String> spares = new ArrayList<>();
        for (JsonNode spare : array(json, "spares")) {
            spares.add(spare.asText());
        }
        List<TaskStatus> tasks = new ArrayList<>();
        for (JsonNode t : array(json, "tasks")) {
            tasks.add(new TaskStatus(text(t, "kind"), text(t, "target"), number(t, "done"), number(t, "total"),
                    real(t, "bytesPerSecond"), number(t, "etaSeconds"), number(t, "mismatches")));
        }
        return new ArrayStatus(text(json, "name"), uuid(json), integer(json, "level"), integer(json, "chunk"),
                number(json, "size"), text(json, "state"), members, spares, tasks, text(json, "export"),
                scrub(json.get("lastScrub")), journal(json.get("journal")), ha(json.get("ha")),
                memory(json.get("requestMemory")));
    }

    private static ScrubResult scrub(JsonNode r) throws AdminException {
        if (r == null || r.isNull()) {
            return null;
        }
        requireObject(r, "lastScrub");
        String finished = text(r, "finished");
        try {
            return new ScrubResult(text(r, "kind"), number(r, "done"), number(r, "total"), number(r, "mismatches"),
                    number(r, "repaired"), finished == null ? null : Instant.parse(finished));
        } catch (DateTimeParseException e) {
            throw new AdminException("status field 'finished' is not a time: " + finished);
        }
    }

    private static UUID uuid(JsonNode json) throws AdminException {
        String text = text(json, "uuid");
        try {
            return text == null ? null : UUID.fromString(text);
        } catch (IllegalArgumentException e) {
            throw new AdminException("status field 'uuid' is not a UUID: " + text);
        }
    }

    private static void requireObject(JsonNode node, String what) throws AdminException {
        if (node == null || !node.isObject()) {
            throw new AdminException("'" + what + "' is not a JSON object");
        }
    }

    private static JsonNode field(JsonNode json, String name) throws AdminException {
        JsonNode value = json.get(name);
        if (value == null) {
            throw new AdminException("status has no field '" + name + "'");
        }
        return value;
    }

    private static String text(JsonNode json, String name) throws AdminException {
        JsonNode value = field(json, name);
        if (value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new AdminException("status field '" + name + "' is not a string");
        }
        return value.textValue();
    }

    private static long number(JsonNode json, String name) throws AdminException {
        JsonNode value = field(json, name);
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw new AdminException("status field '" + name + "' is not a whole number");
        }
        return value.longValue();
    }

    private static int integer(JsonNode json, String name) throws AdminException {
        JsonNode value = field(json, name);
        if (!value.isInt()) {
            throw new AdminException("status field '" + name + "' is not a whole number");
        }
        return value.intValue();
    }

    private static double real(JsonNode json, String name) throws AdminException {
        JsonNode value = field(json, name);
        if (!value.isNumber()) {
            throw new AdminException("status field '" + name + "' is not a number");
        }
        return value.doubleValue();
    }

    private static Iterable<JsonNode> array(JsonNode json, String name) throws AdminException {
        JsonNode value = field(json, name);
        if (!value.isArray()) {
            throw new AdminException("status field '" + name + "' is not a list");
        }
        return value;
    }
}
