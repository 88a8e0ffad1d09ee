package io.parityd.member;

import java.nio.file.FileSystemException;
import java.nio.file.Path;

/**
 * A member another process (or another open in this one) holds for writing: its exclusive lock
 * ({@code flock} on a file, {@code O_EXCL} on a block device) is taken. Usually another parityd
 * serving the same array; in HA mode, the primary controller until it is fenced.
 */
public final class MemberInUseException extends FileSystemException {

    private static final long serialVersionUID = 1L;

    /** A regular file whose lock another process holds. */
    public MemberInUseException(Path path) {
        this(path, "in use: another process holds it for writing (another parityd serving this array?);"
                + " stop that one first, or find it with 'fuser -v " + path + "'");
    }

    public MemberInUseException(Path path, String reason) {
        super(path.toString(), null, reason);
    }
}
