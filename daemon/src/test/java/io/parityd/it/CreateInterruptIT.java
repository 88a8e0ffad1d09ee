package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.parityd.raid.ArrayAssembler;
import io.parityd.raid.ArrayCreator;
import io.parityd.raid.ArrayException;
import io.parityd.raid.AssembledArray;
import io.parityd.raid.CreateResult;
import io.parityd.raid.CreateSpec;
import io.parityd.raid.MemberState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code create} is all or nothing (issue 16): the real {@code parityd create} runs under strace,
 * which sends it SIGKILL on entry to its K-th {@code pwrite64} to a member, before that write
 * reaches the file, for K = 1, 2, ... until a run completes. Every superblock write is one such
 * point. After each kill the members hold no new array, or one that says its create was
 * interrupted (refused by {@code serve}, even when given only the members it stamped), or the
 * whole array; never one that would start degraded. Short of the whole array, the same
 * {@code create} run again without {@code --force} succeeds (even where the killed one had
 * {@code --force} to overwrite another array: that array was gone before the first stamp).
 */
class CreateInterruptIT {

    private static final String SIZE = "8M";
    private static final int MEMBERS = 3;

    @TempDir
    Path dir;

    @Test
    void shouldLeaveNoHalfArrayWhenCreateIsKilledAtAnyMemberWrite() throws Exception {
        requirePtrace();
        killAtEveryWrite(false);
    }

    @Test
    void shouldLeaveNoHalfArrayWhenCreateForceOverAnotherArrayIsKilledAtAnyMemberWrite() throws Exception {
        requirePtrace();
        killAtEveryWrite(true);
    }

    private void killAtEveryWrite(boolean overAnotherArray) throws Exception {
        List<Path> members = Arrays.members(dir, MEMBERS);
        int writes = 2 * 2 * MEMBERS; // two passes, two superblock copies per member
        for (int k = 1; ; k++) {
            for (Path member : members) {
                Files.deleteIfExists(member);
            }
            UUID old = null;
            if (overAnotherArray) {
                old = create("old", members).geometry().arrayUuid();
            }
            Parityd.Result run = createKilledAtWrite(k, members, overAnotherArray);
            if (run.exitCode() == 0) {
                assertThat(k).as("create finished only after its %d superblock writes", writes).isEqualTo(writes + 1);
                assertWhole(members, old);
                return;
            }
            assertThat(run.exitCode()).as("killed at write %d: %s", k, run.all()).isEqualTo(128 + 9);
            String state = afterKill(members, k, old);
            if (k == 3) {
                assertServeRefuses(members, state);
            }
            if (!state.equals("whole")) {
                createAgainWithoutForce(members, k);
            }
        }
    }

    /** What the members hold after a kill at write {@code k}, checked against what may be there. */
    private String afterKill(List<Path> members, int k, UUID old) throws Exception {
        try (AssembledArray array = assembler().assemble(members)) {
            assertThat(k).as("the whole array starts only once create's second pass began").isGreaterThan(2 * MEMBERS + 1);
            assertThat(array.states()).as("killed at write %d", k).containsOnly(MemberState.ACTIVE);
            assertThat(array.geometry().arrayUuid()).isNotEqualTo(old);
            return "whole";
        } catch (ArrayException refused) {
            if (k == 1) {
                assertThat(refused.getMessage()).as("killed before the first stamp: no array at all")
                        .contains("holds no parityd superblock");
                return "none";
            }
            assertThat(k).as("killed at write %d, refused: %s", k, refused.getMessage()).isLessThanOrEqualTo(2 * MEMBERS + 1);
            assertThat(refused.getMessage()).contains("was never completely created: create was interrupted")
                    .contains("run the same `parityd create` again");
            // Writes 1..k-1 happened; the first pass writes copy A of member i as write 2i+1.
            List<Path> stamped = members.subList(0, Math.min(k / 2, MEMBERS));
            if (!stamped.isEmpty()) {
                try (AssembledArray partial = assembler().assemble(stamped)) {
                    throw new AssertionError("started from the stamped members only, killed at write " + k + ": "
                            + partial.states());
                } catch (ArrayException expected) {
                    assertThat(expected.getMessage()).contains("was never completely created");
                }
            }
            return "interrupted";
        }
    }

    private void assertServeRefuses(List<Path> members, String state) throws Exception {
        assertThat(state).isEqualTo("interrupted");
        List<String> args = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:0", "--no-journal",
                "--admin-socket", dir.resolve("admin.sock").toString()));
        args.addAll(Arrays.paths(members));
        Parityd.Result refused = Parityd.run(args.toArray(String[]::new));
        assertThat(refused.exitCode()).as(refused.all()).isEqualTo(1);
        assertThat(refused.stderr()).contains("create was interrupted").contains("run the same `parityd create` again");
    }

    private void createAgainWithoutForce(List<Path> members, int k) throws Exception {
        try {
            create("tank", members);
        } catch (ArrayException e) {
            throw new AssertionError("create again after a kill at write " + k + " refused: " + e.getMessage(), e);
        }
        assertWhole(members, null);
    }

    private void assertWhole(List<Path> members, UUID old) throws Exception {
        try (AssembledArray array = assembler().assemble(members)) {
            assertThat(array.states()).containsOnly(MemberState.ACTIVE);
            assertThat(array.geometry().name()).isEqualTo("tank");
            assertThat(array.geometry().arrayUuid()).isNotEqualTo(old);
        }
    }

    private Parityd.Result createKilledAtWrite(int k, List<Path> members, boolean force)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("strace", "-f", "-qq", "-e", "signal=none", "-o", "/dev/null"));
        for (Path member : members) {
            command.add("-P");
            command.add(member.toString());
        }
        command.addAll(List.of("-e", "trace=pwrite64", "-e", "inject=pwrite64:signal=KILL:when=" + k,
                Parityd.launcher().toString(), "create", "--name", "tank", "--size", SIZE));
        if (force) {
            command.add("--force");
        }
        command.addAll(Arrays.paths(members));
        return Parityd.exec(command, Duration.ofMinutes(2));
    }

    /** {@code create} without {@code --force}, in this process (what the CLI runs, without a JVM start). */
    private static CreateResult create(String name, List<Path> members) throws ArrayException {
        return new ArrayCreator(Clock.systemUTC()).create(new CreateSpec(name, 5, 65536, OptionalLong.of(8L << 20),
                members, false));
    }

    private static ArrayAssembler assembler() {
        return new ArrayAssembler(Clock.systemUTC());
    }

    /** strace needs ptrace, which some containers forbid; say so instead of failing or passing. */
    private static void requirePtrace() throws IOException, InterruptedException {
        Tools.require("strace", "strace");
        Parityd.Result probe = Parityd.exec(List.of("strace", "-qq", "-o", "/dev/null", "true"), Duration.ofSeconds(30));
        assumeTrue(probe.exitCode() == 0, "strace cannot trace here (ptrace forbidden?): " + probe.all() + "; skipping");
    }
}
