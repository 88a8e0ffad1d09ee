package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** The operator commands against a running daemon's admin socket, as a test uses them. */
final class Admin {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path socket;

    Admin(Path socket) {
        this.socket = socket;
    }

    /** {@code parityd COMMAND --admin-socket S ARGS...} to completion. */
    Parityd.Result run(String command, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(command, "--admin-socket", socket.toString()));
        all.addAll(List.of(args));
        return Parityd.run(all.toArray(String[]::new));
    }

    /** {@code parityd status --json}, parsed. */
    JsonNode status() throws Exception {
        Parityd.Result r = run("status", "--json");
        assertThat(r.exitCode()).as("status: %s", r.all()).isZero();
        return JSON.readTree(r.stdout());
    }

    /** The states of the slots, in slot order. */
    List<String> slotStates() throws Exception {
        List<String> states = new ArrayList<>();
        status().get("members").forEach(m -> states.add(m.get("state").asText()));
        return states;
    }

    /** Polls status until {@code done} holds (bounded), returning the last status. */
    JsonNode awaitStatus(Predicate<JsonNode> done, Duration timeout, String what) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode status = status();
        while (!done.test(status)) {
            assertThat(System.nanoTime()).as("%s within %s; last status: %s", what, timeout, status).isLessThan(deadline);
            TimeUnit.MILLISECONDS.sleep(200);
            status = status();
        }
        return status;
    }

    /** Waits until no rebuild runs and every slot is active. */
    JsonNode awaitClean(Duration timeout) throws Exception {
        return awaitStatus(s -> s.get("state").asText().equals("clean") && s.get("tasks").isEmpty(), timeout,
                "every slot active, no task running");
    }
}
