package io.parityd.admin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Who may use the admin socket, checked on every connection from the peer's credentials (the
 * kernel's {@code SO_PEERCRED}, which a client cannot forge). The daemon's rule is root and the
 * user the daemon runs as: those could stop the daemon or read its members anyway. The socket
 * file's mode (0600) and its directory's (0700) say the same to the kernel; this check holds even
 * when someone loosens those.
 */
public final class AdminAccess {

    private static final int ROOT = 0;

    private final int[] uids;
    private final String rule;

    private AdminAccess(int[] uids, String rule) {
        this.uids = uids.clone();
        this.rule = rule;
    }

    /** Root and the user this process runs as. */
    public static AdminAccess rootAndDaemonUser() {
        int self = currentUid();
        String who = self == ROOT ? "root" : "uid " + self;
        return new AdminAccess(new int[] {ROOT, self}, "only root or the user running parityd (" + who + ") may use");
    }

    /** Exactly these uids (tests show a caller outside the rule is refused). */
    public static AdminAccess onlyUids(int... uids) {
        return new AdminAccess(uids, "only uid " + Arrays.toString(uids) + " may use");
    }

    public boolean allows(int uid) {
        for (int allowed : uids) {
            if (allowed == uid) {
                return true;
            }
        }
        return false;
    }

    /** The refusal a caller of {@code uid} reads for {@code socket}: the rule and who they are. */
    public String refusal(int uid, Path socket) {
        return rule + " " + socket + "; you are uid " + uid + "; run the command as that user or with sudo";
    }

    /** The real uid of this process, as the kernel reports it for {@code /proc/self}. */
    public static int currentUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read this process's uid from /proc/self", e);
        }
    }
}
