package io.parityd.member;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoopDevicesTest {

    @TempDir
    Path dir;

    @Test
    void shouldDetachEverythingAfterEachTestWhateverItsOutcome() throws Exception {
        LoopDevices loops = new LoopDevices();
        Path small = loops.attach(LoopDevices.backingFile(dir.resolve("1.img"), 1 << 20));
        Path big = loops.attach(LoopDevices.backingFile(dir.resolve("2.img"), 1 << 20), 4096);
        assertThat(backingFileOf(small)).isEqualTo(dir.resolve("1.img").toString());
        assertThat(Files.readString(sysBlock(big).resolve("queue/logical_block_size")).trim()).isEqualTo("4096");

        // JUnit calls this after every test, passed or failed; it does not look at the outcome.
        loops.afterEach(null);

        assertThat(Files.exists(sysBlock(small).resolve("loop"))).as("%s detached", small).isFalse();
        assertThat(Files.exists(sysBlock(big).resolve("loop"))).as("%s detached", big).isFalse();
    }

    @Test
    void shouldDetachEarlyOnRequestAndRefuseDevicesItDidNotAttach() throws Exception {
        try (LoopDevices loops = new LoopDevices()) {
            Path device = loops.attach(LoopDevices.backingFile(dir.resolve("1.img"), 1 << 20));

            loops.detach(device);

            assertThat(Files.exists(sysBlock(device).resolve("loop"))).isFalse();
            assertThatThrownBy(() -> loops.detach(device)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage(device + " was not attached by this LoopDevices");
        }
    }

    @Test
    void shouldFailNamingLosetupsReasonWhenTheBackingFileIsMissing() {
        try (LoopDevices loops = new LoopDevices()) {
            assertThatThrownBy(() -> loops.attach(dir.resolve("absent.img")))
                    .isInstanceOf(IOException.class).hasMessageContaining("losetup").hasMessageContaining("absent.img");
        } catch (IOException e) {
            throw new AssertionError("nothing was attached, so nothing to detach", e);
        }
    }

    private static Path sysBlock(Path device) {
        return Path.of("/sys/block", device.getFileName().toString());
    }

    private static String backingFileOf(Path device) throws IOException {
        return Files.readString(sysBlock(device).resolve("loop/backing_file")).trim();
    }
}
