package io.parityd.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminPathsTest {

    @TempDir
    Path dir;

    @Test
    void shouldChooseTheDefaultDirectoryByUserAndSession() {
        assertThat(AdminPaths.defaultDirectory(0, Map.of("XDG_RUNTIME_DIR", "/run/user/0"))).isEqualTo(Path.of("/run/parityd"));
        assertThat(AdminPaths.defaultDirectory(1000, Map.of("XDG_RUNTIME_DIR", "/run/user/1000")))
                .isEqualTo(Path.of("/run/user/1000/parityd"));
        assertThat(AdminPaths.defaultDirectory(1000, Map.of())).isEqualTo(Path.of("/tmp/parityd-1000"));
        assertThat(AdminPaths.defaultDirectory(1000, Map.of("XDG_RUNTIME_DIR", ""))).isEqualTo(Path.of("/tmp/parityd-1000"));
        assertThat(AdminPaths.defaultDirectory(1000, Map.of("XDG_RUNTIME_DIR", "relative"))).isEqualTo(Path.of("/tmp/parityd-1000"));
    }

    @Test
    void shouldNameTheSocketAfterTheArray() {
        assertThat(AdminPaths.in(dir).socketFor("vol0")).isEqualTo(dir.resolve("vol0.sock"));
        assertThat(AdminPaths.arrayNameOf(dir.resolve("vol0.sock"))).isEqualTo("vol0");
        assertThat(AdminPaths.defaultFor("vol0").getFileName().toString()).isEqualTo("vol0.sock");
        if (AdminAccess.currentUid() == 0) {
            assertThat(AdminPaths.defaultFor("vol0")).isEqualTo(Path.of("/run/parityd/vol0.sock"));
        }
    }

    @Test
    void shouldRefuseANameThatIsNotAnArrayName() {
        for (String bad : new String[] {"../etc/x", "a/b", "", "x".repeat(65), "sp ace"}) {
            assertThatThrownBy(() -> AdminPaths.in(dir).socketFor(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not an array name");
        }
    }

    @Test
    void shouldListSocketsByName() throws Exception {
        assertThat(AdminPaths.in(dir.resolve("missing")).sockets()).isEmpty();
        Files.createFile(dir.resolve("b.sock"));
        Files.createFile(dir.resolve("a.sock"));
        Files.createFile(dir.resolve("notes.txt"));
        assertThat(AdminPaths.in(dir).sockets()).containsExactly(dir.resolve("a.sock"), dir.resolve("b.sock"));
    }
}
