package io.parityd.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parityd.admin.ArrayStatus.MemberStatus;
import io.parityd.admin.ArrayStatus.ScrubResult;
import io.parityd.admin.ArrayStatus.TaskStatus;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The JSON of a status: field names are an interface scripts rely on, so they are spelled out here. */
class StatusJsonTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final ArrayStatus STATUS = new ArrayStatus("vol0", UUID.fromString("6f1c2a9e-0d4b-4c1e-9a57-3b2f8e7d6c5a"),
            5, 65536, 1L << 30, "degraded",
            List.of(new MemberStatus(0, "/m0", "active", null), new MemberStatus(1, null, "missing", "not found at start"),
                    new MemberStatus(2, "/m9", "rebuilding", null)),
            List.of("/s0"), List.of(new TaskStatus("rebuild", "/m9", 3, 10, 1.5e7, 12, 0)), "nbd://127.0.0.1:10809/vol0",
            new ScrubResult("check", 10, 10, 2, 0, Instant.parse("2026-11-25T01:30:00Z")),
            new ArrayStatus.JournalStatus("/j.nvram", false, 256L << 20, 8192, 2, 0, 17, 3, 1, 4, 15));

    @Test
    void shouldWriteTheDocumentedFieldNames() throws Exception {
        String expected = """
                {"name":"vol0","uuid":"6f1c2a9e-0d4b-4c1e-9a57-3b2f8e7d6c5a","level":5,"chunk":65536,"size":1073741824,
                 "state":"degraded","export":"nbd://127.0.0.1:10809/vol0",
                 "members":[{"slot":0,"path":"/m0","state":"active","reason":null},
                            {"slot":1,"path":null,"state":"missing","reason":"not found at start"},
                            {"slot":2,"path":"/m9","state":"rebuilding","reason":null}],
                 "spares":["/s0"],
                 "tasks":[{"kind":"rebuild","target":"/m9","done":3,"total":10,"bytesPerSecond":1.5E7,"etaSeconds":12,"mismatches":0}],
                 "lastScrub":{"kind":"check","done":10,"total":10,"mismatches":2,"repaired":0,"finished":"2026-11-25T01:30:00Z"},
                 "journal":{"path":"/j.nvram","nonVolatile":false,"capacity":268435456,"usedBytes":8192,"records":2,
                            "waiting":0,"syncs":17,"replayedRequests":3,"droppedRecords":1,"stripesResynced":4,
                            "recoveryMillis":15,"mode":"data","marks":0,"writes":0,"writesWaited":0},
                 "ha":null,"requestMemory":null}
                """;
        // compared as parsed text: a script sees the text, not which Java number type wrote it
        assertThat(JSON.readTree(JSON.writeValueAsString(StatusJson.toJson(STATUS)))).isEqualTo(JSON.readTree(expected));
    }

    @Test
    void shouldReadBackWhatItWrote() throws Exception {
        String text = JSON.writeValueAsString(StatusJson.toJson(STATUS));
        assertThat(StatusJson.fromJson(JSON.readTree(text))).isEqualTo(STATUS);
        ArrayStatus idle = new ArrayStatus("v", null, 5, 4096, 0, "clean", List.of(), List.of(), List.of(), null);
        assertThat(StatusJson.fromJson(StatusJson.toJson(idle))).isEqualTo(idle);
        ArrayStatus ha = STATUS.withHa(new ArrayStatus.HaStatus("controller a", "PRIMARY", 5, 5, 420, 0, 0, List.of(
                new ArrayStatus.PeerStatus("front", "", "connected", -1, -1),
                new ArrayStatus.PeerStatus("standby", "", "in sync", -1, -1))));
        ArrayStatus withMemory = STATUS.withMemory(new ArrayStatus.RequestMemory(256L << 20, 4096, 2));
        assertThat(StatusJson.fromJson(JSON.readTree(JSON.writeValueAsString(StatusJson.toJson(withMemory)))))
                .isEqualTo(withMemory);
        assertThat(JSON.writeValueAsString(StatusJson.toJson(withMemory)))
                .contains("\"requestMemory\":{\"capacity\":268435456,\"used\":4096,\"waiting\":2}");
        String haText = JSON.writeValueAsString(StatusJson.toJson(ha));
        assertThat(haText).contains("\"ha\":{\"node\":\"controller a\",\"role\":\"PRIMARY\",\"epoch\":5");
        assertThat(StatusJson.fromJson(JSON.readTree(haText))).isEqualTo(ha);
    }

    @Test
    void shouldNameAMissingOrMistypedField() throws Exception {
        JsonNode noState = StatusJson.toJson(STATUS).without("state");
        assertThatThrownBy(() -> StatusJson.fromJson(noState)).hasMessage("status has no field 'state'");
        JsonNode textSize = StatusJson.toJson(STATUS).put("size", "big");
        assertThatThrownBy(() -> StatusJson.fromJson(textSize)).hasMessage("status field 'size' is not a whole number");
        assertThatThrownBy(() -> StatusJson.fromJson(JSON.readTree("[]"))).hasMessage("'status' is not a JSON object");
        ObjectNode badJournal = StatusJson.toJson(STATUS);
        ((ObjectNode) badJournal.get("journal")).put("nonVolatile", "no");
        assertThatThrownBy(() -> StatusJson.fromJson(badJournal)).hasMessage("status field 'nonVolatile' is not true or false");
    }
}
