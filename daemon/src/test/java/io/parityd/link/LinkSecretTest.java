package io.parityd.link;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LinkSecretTest {

    private static final String KEY = "q0VJ6lVbA0cL3bJf4vQXxg3XkO2m7y1nq0VJ6lVbA0c=";
    private static final byte[] SOME_INPUT = "input".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private Path file(String content, String permissions) throws IOException {
        Path file = dir.resolve("link.secret");
        Files.writeString(file, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
        return file;
    }

    @Test
    void shouldLoadAPrivateFileLessItsTrailingNewline() throws IOException {
        LinkSecret loaded = LinkSecret.load(file(KEY + "\n", "rw-------"));
        byte[] expected = LinkSecret.of(KEY.getBytes(StandardCharsets.US_ASCII)).mac(SOME_INPUT);
        assertThat(loaded.mac(SOME_INPUT)).isEqualTo(expected);
        assertThat(loaded.mac(SOME_INPUT))
                .isNotEqualTo(LinkSecret.of((KEY + "\n").getBytes(StandardCharsets.US_ASCII)).mac(SOME_INPUT));
    }

    @Test
    void shouldTakeTheFileAsItIsWithoutANewlineOrWithCrLf() throws IOException {
        byte[] expected = LinkSecret.of(KEY.getBytes(StandardCharsets.US_ASCII)).mac(SOME_INPUT);
        assertThat(LinkSecret.load(file(KEY, "r--------")).mac(SOME_INPUT)).isEqualTo(expected);
        assertThat(LinkSecret.load(file(KEY + "\r\n", "rw-------")).mac(SOME_INPUT)).isEqualTo(expected);
    }

    @Test
    void shouldRefuseATooShortSecretSayingHowToMakeOne() throws IOException {
        Path file = file("thirty-one bytes, one too few!!\n", "rw-------");
        assertThatThrownBy(() -> LinkSecret.load(file)).isInstanceOf(IOException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("holds 31 bytes, at least 32 are needed")
                .hasMessageContaining("head -c 32 /dev/urandom | base64 > " + file + "; chmod 600 " + file);
    }

    @ParameterizedTest
    @ValueSource(strings = {"aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    void shouldRefuseOneByteRepeated(String secret) throws IOException {
        Path file = file(secret + "\n", "rw-------");
        assertThatThrownBy(() -> LinkSecret.load(file)).isInstanceOf(IOException.class)
                .hasMessageContaining("secret file " + file)
                .hasMessageContaining("head -c 32 /dev/urandom | base64 > " + file + "; chmod 600 " + file);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0123456789abcdef0123456789abcdef", "passwordpasswordpasswordpassword1",
        "correct horse battery staple!!!!!"})
    void shouldRefuseASecretThatIsObviouslyNotRandom(String secret) throws IOException {
        Path file = file(secret + "\n", "rw-------");
        assertThatThrownBy(() -> LinkSecret.load(file)).isInstanceOf(IOException.class)
                .hasMessageContaining("secret file " + file + " holds a weak secret")
                .hasMessageContaining("head -c 32 /dev/urandom | base64 > " + file + "; chmod 600 " + file);
    }

    @Test
    void shouldAcceptWhatTheReadmeAndTheHaTestsMake() throws IOException {
        byte[] random = new byte[32];
        new java.security.SecureRandom().nextBytes(random);
        String readme = java.util.Base64.getEncoder().encodeToString(random); // head -c 32 /dev/urandom | base64
        assertThat(LinkSecret.load(file(readme + "\n", "rw-------"))).isNotNull();
        assertThat(LinkSecret.load(file(java.util.HexFormat.of().formatHex(random) + "\n", "rw-------")))
                .as("openssl rand -hex 32").isNotNull();
        assertThat(LinkSecret.load(file("a shared secret for the test pair, long enough\n", "rw-------")))
                .as("HaCluster's").isNotNull();
    }

    @Test
    void shouldRefuseAFileOwnedByAnotherUser() throws IOException {
        Path file = file(KEY, "rw-------");
        int owner = (Integer) Files.getAttribute(file, "unix:uid");
        if (owner == 0) {
            Files.setAttribute(file, "unix:uid", 65534); // as root: give it away, to nobody
            assertThatThrownBy(() -> LinkSecret.load(file)).isInstanceOf(IOException.class)
                    .hasMessageContaining("secret file " + file + " belongs to uid 65534")
                    .hasMessageContaining("chown");
        } else {
            assertThatThrownBy(() -> LinkSecret.load(file, owner + 1)).isInstanceOf(IOException.class)
                    .hasMessageContaining("secret file " + file + " belongs to uid " + owner)
                    .hasMessageContaining("chown");
        }
    }

    @Test
    void shouldAcceptAFileOwnedByRootForAnotherUser() throws IOException {
        Path file = file(KEY, "rw-------");
        org.junit.jupiter.api.Assumptions.assumeTrue((Integer) Files.getAttribute(file, "unix:uid") == 0,
                "needs a file owned by root");
        assertThat(LinkSecret.load(file, 4242)).isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"rw-r-----", "rw----r--", "rw--w----", "rw-----w-", "rw-rw-rw-"})
    void shouldRefuseAFileOthersCanReadOrWrite(String permissions) throws IOException {
        Path file = file(KEY, permissions);
        assertThatThrownBy(() -> LinkSecret.load(file)).isInstanceOf(IOException.class)
                .hasMessageContaining("secret file " + file)
                .hasMessageContaining("(permissions " + permissions + ")")
                .hasMessageContaining("chmod 600 " + file);
    }

    @Test
    void shouldRefuseAMissingFileSayingHowToMakeOne() {
        Path file = dir.resolve("nowhere.secret");
        assertThatThrownBy(() -> LinkSecret.load(file)).isInstanceOf(IOException.class)
                .hasMessageContaining("secret file " + file + " does not exist")
                .hasMessageContaining("head -c 32 /dev/urandom | base64 > " + file + "; chmod 600 " + file);
    }

    @Test
    void shouldNeverShowTheSecret() throws IOException {
        Path file = file(KEY + "\n", "rw-------");
        LinkSecret secret = LinkSecret.load(file);
        assertThat(secret.toString()).doesNotContain(KEY).doesNotContain(KEY.substring(0, 8)).contains(file.toString());
        assertThat(LinkSecret.of(KEY.getBytes(StandardCharsets.US_ASCII)).toString()).doesNotContain(KEY.substring(0, 8));
    }

    @Test
    void shouldRefuseShortBytes() {
        assertThatThrownBy(() -> LinkSecret.of(new byte[15])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 16 bytes, got 15");
    }
}
