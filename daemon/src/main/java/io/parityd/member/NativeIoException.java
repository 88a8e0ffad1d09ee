package io.parityd.member;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * A system call made through {@link NativeIo} returned {@code -1}. The message names the call,
 * the path it was made on and the kernel's reason, e.g.
 * {@code fallocate(PUNCH_HOLE) /data/d1.img: Operation not supported (errno 95)}, so it can go to
 * an operator as it is; {@link #errno()} lets code branch on the cause.
 */
public final class NativeIoException extends IOException {

    private static final int ENOENT = 2;
    private static final int EACCES = 13;

    private final int errno;
    private final String call;
    private final String path;
    private final String reason;

    /** Public so fault-injecting layers in tests can fail exactly as the kernel would. */
    public NativeIoException(String call, String path, int errno, String reason) {
        super(call + " " + path + ": " + reason + " (errno " + errno + ")");
        this.errno = errno;
        this.call = call;
        this.path = path;
        this.reason = reason;
    }

    /** The {@code errno} the call left, as in {@code <errno.h>} on Linux x86-64. */
    public int errno() {
        return errno;
    }

    /** The call that failed, with its mode when it has one, e.g. {@code fallocate(ZERO_RANGE)}. */
    public String call() {
        return call;
    }

    /** The kernel's reason as {@code strerror} words it, e.g. {@code Permission denied}. */
    public String reason() {
        return reason;
    }

    /**
     * This failure of {@code open} as {@link java.nio.file.Files} would have reported it
     * ({@link NoSuchFileException}, {@link AccessDeniedException}, else {@link FileSystemException}
     * with the kernel's reason), with this exception as the cause: members open the way the rest
     * of parityd expects files to, and the errno is still there.
     */
    FileSystemException asFileSystemException() {
        FileSystemException translated = switch (errno) {
            case ENOENT -> new NoSuchFileException(path);
            case EACCES -> new AccessDeniedException(path);
            default -> new FileSystemException(path, null, reason);
        };
        translated.initCause(this);
        return translated;
    }
}
