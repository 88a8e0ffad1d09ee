package io.parityd.link;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * The secret every node of an array shares, which authenticates its links ({@link LinkHandshake}).
 * The key is the file's bytes as they are (a base64 text is used as text, not decoded), less one
 * trailing newline. It never leaves this class: it is not logged, not shown by {@link #toString()},
 * and only used through {@link #mac}.
 */
public final class LinkSecret {

    /** Fewer bytes than this is a password, not a key. */
    public static final int MIN_LENGTH = 16;

    private static final String ALGORITHM = "HmacSHA256";
    private static final Set<PosixFilePermission> NOT_PRIVATE = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private final SecretKeySpec key;
    private final String source;

    private LinkSecret(byte[] key, String source) {
        this.key = new SecretKeySpec(key, ALGORITHM);
        this.source = source;
    }

    /**
     * Reads the secret from {@code file}, which must exist, be private to its owner, and hold at
     * least {@value #MIN_LENGTH} bytes. Every refusal says what to do about it.
     */
    public static LinkSecret load(Path file) throws IOException {
        Set<PosixFilePermission> permissions;
        try {
            permissions = Files.getPosixFilePermissions(file);
        } catch (NoSuchFileException e) {
            throw new IOException("secret file " + file + " does not exist; make one (and copy it to every node): "
                    + howToMake(file), e);
        }
        if (!Collections.disjoint(permissions, NOT_PRIVATE)) {
            throw new IOException("secret file " + file + " is readable or writable by group or others (permissions "
                    + PosixFilePermissions.toString(permissions) + "); make it private to its owner: chmod 600 "
                    + file);
        }
        byte[] raw = Files.readAllBytes(file);
        int length = withoutTrailingNewline(raw);
        try {
            if (length < MIN_LENGTH) {
                throw new IOException("secret file " + file + " holds " + length + " bytes, at least " + MIN_LENGTH
                        + " are needed; make a new one: " + howToMake(file));
            }
            return new LinkSecret(Arrays.copyOf(raw, length), "from " + file);
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }

    /** A secret given as bytes (at least {@value #MIN_LENGTH}); the caller keeps its own copy private. */
    public static LinkSecret of(byte[] key) {
        if (key.length < MIN_LENGTH) {
            throw new IllegalArgumentException("a link secret needs at least " + MIN_LENGTH + " bytes, got "
                    + key.length);
        }
        return new LinkSecret(key.clone(), "given as bytes");
    }

    private static String howToMake(Path file) {
        return "head -c 32 /dev/urandom | base64 > " + file + "; chmod 600 " + file;
    }

    /** Length of {@code raw} less one trailing "\n" or "\r\n". */
    private static int withoutTrailingNewline(byte[] raw) {
        int length = raw.length;
        if (length > 0 && raw[length - 1] == '\n') {
            length--;
            if (length > 0 && raw[length - 1] == '\r') {
                length--;
            }
        }
        return length;
    }

    /** HMAC-SHA256 under this secret of the parts, in order. */
    byte[] mac(byte[]... parts) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            for (byte[] part : parts) {
                mac.update(part);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(ALGORITHM + " is part of every Java runtime, yet: " + e, e);
        }
    }

    @Override
    public String toString() {
        return "LinkSecret[" + source + "]";
    }
}
