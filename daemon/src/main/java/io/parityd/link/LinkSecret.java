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
 *
 * <p>A secret file is refused unless it is private to its owner, owned by the user running
 * parityd or by root (anyone else who owns it could change the key under us), and not obviously
 * weak: at least {@value #MIN_FILE_LENGTH} bytes, not one shorter string repeated, and at least
 * {@value #MIN_ESTIMATED_BITS} bits by the count of each byte value in it (its length times the
 * Shannon entropy of its byte frequencies). That estimate can only overrate a secret, never
 * underrate a random one: 32 random bytes measure at least 144 bits raw, about 190 or more in
 * base64 and 220 or more in hex, while "aaaa…" measures 0 and a short phrase padded to length
 * about 100. It catches the mistakes, not every weak secret: make the file from /dev/urandom.
 */
public final class LinkSecret {

    /** Fewer bytes than this is a password, not a key: the least {@link #of} accepts from code. */
    public static final int MIN_LENGTH = 16;

    /** A secret file holds at least the 32 bytes of an HMAC-SHA256 key's strength. */
    public static final int MIN_FILE_LENGTH = 32;

    /** HMAC-SHA256 keys are meant to carry 128 bits or more; fewer by any estimate is a weak secret. */
    public static final int MIN_ESTIMATED_BITS = 128;

    private static final int ROOT = 0;

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
     * Reads the secret from {@code file}, which must exist, be private to its owner, belong to the
     * user running parityd or to root, and hold a secret that is not obviously weak (see the class
     * comment). Every refusal names the file and says what to do about it.
     */
    public static LinkSecret load(Path file) throws IOException {
        return load(file, currentUid());
    }

    /** As {@link #load(Path)} for a process running as {@code runningUid} (tests). */
    static LinkSecret load(Path file, int runningUid) throws IOException {
        checkAccess(file, runningUid);
        byte[] raw = Files.readAllBytes(file);
        int length = withoutTrailingNewline(raw);
        try {
            if (length < MIN_FILE_LENGTH) {
                throw new IOException("secret file " + file + " holds " + length + " bytes, at least "
                        + MIN_FILE_LENGTH + " are needed; make a new one: " + howToMake(file));
            }
            String weakness = weakness(raw, length);
            if (weakness != null) {
                throw new IOException("secret file " + file + " holds a weak secret (" + weakness
                        + "); make a random one: " + howToMake(file));
            }
            return new LinkSecret(Arrays.copyOf(raw, length), "from " + file);
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }

    /** The file exists, only its owner may read or write it, and that owner is us or root. */
    private static void checkAccess(Path file, int runningUid) throws IOException {
        Set<PosixFilePermission> permissions;
        int owner;
        try {
            permissions = Files.getPosixFilePermissions(file);
            owner = (Integer) Files.getAttribute(file, "unix:uid");
        } catch (NoSuchFileException e) {
            throw new IOException("secret file " + file + " does not exist; make one (and copy it to every node): "
                    + howToMake(file), e);
        }
        if (!Collections.disjoint(permissions, NOT_PRIVATE)) {
            throw new IOException("secret file " + file + " is readable or writable by group or others (permissions "
                    + PosixFilePermissions.toString(permissions) + "); make it private to its owner: chmod 600 "
                    + file);
        }
        if (owner != runningUid && owner != ROOT) {
            throw new IOException("secret file " + file + " belongs to uid " + owner + ", but parityd runs as uid "
                    + runningUid + ": its owner could change the secret; give it to this user or to root (chown "
                    + runningUid + " " + file + ") or make a new one: " + howToMake(file));
        }
    }

    /**
     * Why the first {@code length} bytes of {@code key} are obviously not a random secret, or null:
     * one shorter string repeated, or fewer than {@value #MIN_ESTIMATED_BITS} bits by the count of
     * each byte value. Nothing here is logged or kept.
     */
    static String weakness(byte[] key, int length) {
        int period = shortestPeriod(key, length);
        if (period < length) {
            return "the same " + period + " byte" + (period == 1 ? "" : "s") + " repeated";
        }
        double bits = estimatedBits(key, length);
        if (bits < MIN_ESTIMATED_BITS) {
            return "about " + (int) bits + " bits by how often each byte occurs, at least " + MIN_ESTIMATED_BITS
                    + " are needed";
        }
        return null;
    }

    /** The length of the shortest string that, repeated (the last copy may be cut short), makes the key. */
    private static int shortestPeriod(byte[] key, int length) {
        for (int period = 1; period <= length / 2; period++) {
            int i = period;
            while (i < length && key[i] == key[i - period]) {
                i++;
            }
            if (i == length) {
                return period;
            }
        }
        return length;
    }

    /** Length times the Shannon entropy of the byte frequencies, in bits. */
    private static double estimatedBits(byte[] key, int length) {
        int[] counts = new int[256];
        for (int i = 0; i < length; i++) {
            counts[key[i] & 0xff]++;
        }
        double bits = 0;
        for (int count : counts) {
            if (count > 0) {
                double p = (double) count / length;
                bits -= count * (Math.log(p) / Math.log(2));
            }
        }
        Arrays.fill(counts, 0);
        return bits;
    }

    /** The real uid of this process, as the kernel reports it for {@code /proc/self}. */
    private static int currentUid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
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
