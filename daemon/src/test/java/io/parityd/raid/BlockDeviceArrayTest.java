package io.parityd.raid;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.member.BlockMember;
import io.parityd.member.LoopDevices;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Arrays on raw block devices (loop devices here): create, assemble, and the exclusive open. */
class BlockDeviceArrayTest {

    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @RegisterExtension
    final LoopDevices loops = new LoopDevices();

    @Test
    void shouldCreateAndAssembleAnArrayOnBlockDevices() throws Exception {
        LoopDevices.assumeAvailable();
        List<Path> devices = List.of(
                loops.attach(LoopDevices.backingFile(dir.resolve("a"), 17L * MIB)),
                loops.attach(LoopDevices.backingFile(dir.resolve("b"), 17L * MIB)),
                loops.attach(LoopDevices.backingFile(dir.resolve("c"), 17L * MIB)));

        CreateResult created = new ArrayCreator(Clock.systemUTC()).create(
                new CreateSpec("blk", 5, 64 << 10, OptionalLong.empty(), devices, false));

        assertThat(created.geometry().memberDataSize()).as("sized by BLKGETSIZE64").isEqualTo(16L * MIB);
        try (AssembledArray array = new ArrayAssembler(Clock.systemUTC()).assemble(devices)) {
            assertThat(array.shutDownCleanly()).as("loop devices zero quickly, so the array starts clean").isTrue();
            assertThat(array.devices()).allSatisfy(d -> assertThat(d).isInstanceOf(BlockMember.class));
            // Held exclusively while assembled: nobody else may open a member read-write.
            ArrayException busy = org.assertj.core.api.Assertions.catchThrowableOfType(
                    () -> new ArrayCreator(Clock.systemUTC()).create(
                            new CreateSpec("other", 5, 64 << 10, OptionalLong.empty(), devices, true)),
                    ArrayException.class);
            assertThat(busy).isNotNull();
            assertThat(busy.getMessage()).contains(devices.get(0) + ": in use (mounted, or held by another program");
        }
    }
}
