package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** libnbd's nbdinfo against a running daemon: size, flags, block sizes, export listing. */
class NbdinfoIT extends DaemonTestBase {

    @Test
    void shouldShowSizeFlagsAndBlockSizes() throws Exception {
        Tools.require("nbdinfo", "libnbd-bin");
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create("vol0", "65M", members);
        daemon = Arrays.serve(dir.resolve("parityd.log"), members);

        String json = Parityd.check(List.of("nbdinfo", "--json", daemon.uri()), Duration.ofSeconds(30));

        // 65 MiB members, 1 MiB of metadata each, 2 data members: 128 MiB exported.
        assertThat(number(json, "export-size")).isEqualTo(128L << 20);
        assertThat(json).contains("\"export-name\": \"vol0\"");
        for (String yes : List.of("can_flush", "can_fua", "can_trim", "can_zero", "can_fast_zero", "can_multi_conn", "can_df")) {
            assertThat(flag(json, yes)).as(yes).isTrue();
        }
        assertThat(flag(json, "is_read_only")).isFalse();
        assertThat(flag(json, "can_cache")).isTrue();
        assertThat(number(json, "block_size_minimum")).isEqualTo(512);
        assertThat(number(json, "block_size_preferred")).isEqualTo(4096);
        assertThat(number(json, "block_size_maximum")).isEqualTo(32L << 20);
    }

    @Test
    void shouldListTheVolumeAndServeItUnderTheEmptyName() throws Exception {
        Tools.require("nbdinfo", "libnbd-bin");
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("listed", "33M", members);
        daemon = Arrays.serve(dir.resolve("parityd.log"), members);

        String list = Parityd.check(List.of("nbdinfo", "--list", daemon.uri()), Duration.ofSeconds(30));
        assertThat(list).contains("export=\"listed\"");
        assertThat(list).contains("RAID-5");

        String base = daemon.uri().substring(0, daemon.uri().lastIndexOf('/'));
        String byDefault = Parityd.check(List.of("nbdinfo", "--size", base), Duration.ofSeconds(30));
        assertThat(byDefault.trim()).isEqualTo(Long.toString(3L * (32 << 20)));

        Parityd.Result unknown = Parityd.exec(List.of("nbdinfo", base + "/no-such-export"), Duration.ofSeconds(30));
        assertThat(unknown.exitCode()).isNotZero();
        // The daemon keeps serving after refusing the unknown export.
        assertThat(Parityd.check(List.of("nbdinfo", "--size", daemon.uri()), Duration.ofSeconds(30)).trim())
                .isEqualTo(byDefault.trim());
    }

    private static long number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": (\\d+)").matcher(json);
        assertThat(m.find()).as("%s in %s", key, json).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static boolean flag(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": (true|false)").matcher(json);
        assertThat(m.find()).as("%s in %s", key, json).isTrue();
        return Boolean.parseBoolean(m.group(1));
    }
}
