package io.parityd.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin protocol over a real Unix socket, against {@link RecordingArrayControl}. */
class AdminServerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private RecordingArrayControl control;
    private AdminServer server;
    private AdminClient client;

    @BeforeEach
    void start() throws IOException {
        control = new RecordingArrayControl(dir);
        server = AdminServer.start(dir.resolve("vol0.sock"), control);
        client = new AdminClient(server.socket());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private static JsonNode parse(String line) throws IOException {
        assertThat(line).as("a response line").isNotNull();
        return JSON.readTree(line);
    }

    @Test
    void shouldRoundTripEveryCommand() throws Exception {
        ArrayStatus status = client.status();
        assertThat(status.name()).isEqualTo("vol0");
        assertThat(status.uuid()).isEqualTo(RecordingArrayControl.ID);
        assertThat(status.state()).isEqualTo("clean");
        assertThat(status.members()).extracting(ArrayStatus.MemberStatus::path)
                .containsExactly(dir.resolve("m0").toString(), dir.resolve("m1").toString(), dir.resolve("m2").toString());

        client.fail("1", false);
        client.replace(dir.resolve("m1").toString(), dir.resolve("new"));
        client.addSpare(dir.resolve("spare"));
        assertThat(client.status().tasks()).singleElement()
                .satisfies(t -> assertThat(t.kind()).isEqualTo("rebuild"))
                .satisfies(t -> assertThat(t.target()).isEqualTo(dir.resolve("new").toString()));
        client.status();
        client.status(); // the rebuild ends: 4, 8, 10 of 10 stripes
        client.scrub(true);
        client.fail("2", true);

        assertThat(control.calls()).containsExactly("status", "fail 1", "replace " + dir.resolve("m1") + " " + dir.resolve("new"),
                "add-spare " + dir.resolve("spare"), "status", "status", "status", "scrub repair=true", "fail 2 --force");
    }

    @Test
    void shouldCarryTheWholeStatusUnchanged() throws Exception {
        control.markFaulty(2, "read error at 4096");
        control.scrub(false);
        ArrayStatus direct = control.status();
        ArrayStatus viaSocket = client.status();
        // the socket's status call advanced the check once more (4 → 8 stripes); all else is equal
        assertThat(viaSocket.tasks().get(0).done()).isEqualTo(8);
        assertThat(viaSocket).usingRecursiveComparison().ignoringFields("tasks").isEqualTo(direct);
        assertThat(viaSocket.members().get(2).reason()).isEqualTo("read error at 4096");
    }

    @Test
    void shouldReturnTheControlsRefusalAsTheMessage() throws Exception {
        control.refuseNext("slot 7 does not exist in array 'vol0' (3 slots); give 0, 1 or 2");
        assertThatThrownBy(() -> client.fail("7", false)).isInstanceOf(AdminException.class)
                .hasMessage("slot 7 does not exist in array 'vol0' (3 slots); give 0, 1 or 2");
        assertThatThrownBy(() -> client.replace("9", dir.resolve("x"))).hasMessageContaining("'9' is not a member of array 'vol0'");
        assertThat(client.status().state()).as("still serving").isEqualTo("clean");
    }

    @Test
    void shouldAnswerABugInTheControlAndKeepServing() throws Exception {
        control.throwNext(new IllegalStateException("boom"));
        assertThatThrownBy(() -> client.scrub(false)).isInstanceOf(AdminException.class)
                .hasMessageContaining("parityd failed to carry out Scrub[repair=false]")
                .hasMessageContaining("boom").hasMessageContaining("daemon log");
        assertThat(client.status().name()).isEqualTo("vol0");
    }

    @Test
    void shouldAnswerEveryMalformedRequestAndKeepTheConnection() throws Exception {
        List<String[]> cases = List.of(
                new String[] {"this is not json", "this is not JSON"},
                new String[] {"[1,2,3]", "a request is one JSON object"},
                new String[] {"", "a request is one JSON object"},
                new String[] {"{\"command\":\"status\"}", "names none (add \"protocol\":1)"},
                new String[] {"{\"protocol\":2,\"command\":\"status\"}", "this parityd speaks admin protocol 1, the request uses 2"},
                new String[] {"{\"protocol\":1}", "needs a non-empty string field 'command'"},
                new String[] {"{\"protocol\":1,\"command\":\"explode\"}",
                    "unknown command 'explode'; the commands are status, fail, replace, re-add, add-spare, scrub"},
                new String[] {"{\"protocol\":1,\"command\":\"fail\"}", "fail needs a non-empty string field 'member'"},
                new String[] {"{\"protocol\":1,\"command\":\"fail\",\"member\":3}", "fail needs a non-empty string field 'member'"},
                new String[] {"{\"protocol\":1,\"command\":\"replace\",\"member\":\"1\",\"replacement\":\"rel/path\"}",
                    "'replacement' must be an absolute path, got 'rel/path'"},
                new String[] {"{\"protocol\":1,\"command\":\"add-spare\",\"path\":\"\"}", "add-spare needs a non-empty string field 'path'"},
                new String[] {"{\"protocol\":1,\"command\":\"scrub\",\"repair\":\"yes\"}", "field 'repair' must be true or false"});
        try (RawConnection raw = new RawConnection(server.socket())) {
            for (String[] c : cases) {
                raw.send(c[0] + "\n");
                JsonNode reply = parse(raw.readLine());
                assertThat(reply.get("ok").booleanValue()).as(c[0]).isFalse();
                assertThat(reply.get("protocol").intValue()).as(c[0]).isEqualTo(AdminProtocol.VERSION);
                assertThat(reply.get("error").textValue()).as(c[0]).contains(c[1]);
            }
            raw.send("{\"protocol\":1,\"command\":\"status\"}\r\n");
            JsonNode reply = parse(raw.readLine());
            assertThat(reply.get("ok").booleanValue()).isTrue();
            assertThat(reply.get("status").get("name").textValue()).isEqualTo("vol0");
        }
        assertThat(control.calls()).as("nothing malformed reached the array").containsExactly("status");
    }

    @Test
    void shouldAnswerPipelinedRequestsInOrder() throws Exception {
        try (RawConnection raw = new RawConnection(server.socket())) {
            StringBuilder burst = new StringBuilder();
            for (int i = 0; i < 20; i++) {
                burst.append(i % 2 == 0 ? "{\"protocol\":1,\"command\":\"status\"}\n" : "{\"protocol\":1,\"command\":\"no-" + i + "\"}\n");
            }
            raw.send(burst.toString());
            for (int i = 0; i < 20; i++) {
                JsonNode reply = parse(raw.readLine());
                if (i % 2 == 0) {
                    assertThat(reply.get("ok").booleanValue()).as("reply %d", i).isTrue();
                } else {
                    assertThat(reply.get("error").textValue()).as("reply %d", i).contains("unknown command 'no-" + i + "'");
                }
            }
        }
    }

    @Test
    void shouldRefuseAnOversizedLineAndKeepServingOthers() throws Exception {
        try (RawConnection raw = new RawConnection(server.socket())) {
            raw.send("{\"protocol\":1,\"command\":\"status\",\"pad\":\"" + "x".repeat(AdminProtocol.MAX_REQUEST_BYTES) + "\"}\n");
            JsonNode reply = parse(raw.readLine());
            assertThat(reply.get("ok").booleanValue()).isFalse();
            assertThat(reply.get("error").textValue()).isEqualTo("request longer than 65536 bytes; a request is one JSON object on one line");
            assertThat(raw.readLine()).as("then the connection is closed").isNull();
        }
        assertThat(control.calls()).isEmpty();
        assertThat(client.status().name()).isEqualTo("vol0");
    }

    @Test
    void shouldKeepAnsweringOthersWhileARequestIsSlow() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = control.holdNextFail(entered);
        try (RawConnection slow = new RawConnection(server.socket())) {
            slow.send("{\"protocol\":1,\"command\":\"fail\",\"member\":\"1\"}\n");
            assertThat(entered.await(10, TimeUnit.SECONDS)).as("the fail request reached the control").isTrue();
            assertThat(client.status().state()).as("answered while the fail is held").isEqualTo("clean");
            release.countDown();
            assertThat(parse(slow.readLine()).get("ok").booleanValue()).isTrue();
        }
        assertThat(client.status().state()).isEqualTo("degraded");
    }

    @Test
    void shouldSurviveAClientThatLeavesMidRequest() throws Exception {
        for (int i = 0; i < 5; i++) {
            try (RawConnection raw = new RawConnection(server.socket())) {
                raw.send("{\"protocol\":1,\"command\":\"status\"}\n{\"protocol\":1,\"comm");
            }
        }
        assertThat(client.status().name()).isEqualTo("vol0");
    }

    @Test
    void shouldAcceptARequestWithoutOptionalFields() throws Exception {
        try (RawConnection raw = new RawConnection(server.socket())) {
            raw.send("{\"protocol\":1,\"command\":\"scrub\",\"future\":{\"ignored\":true}}\n");
            assertThat(parse(raw.readLine()).get("ok").booleanValue()).isTrue();
        }
        assertThat(control.calls()).containsExactly("scrub repair=false");
    }
}
