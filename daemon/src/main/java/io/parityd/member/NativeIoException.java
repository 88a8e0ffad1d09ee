package io.parityd.member;

import java.io.IOException;

/**
 * A system call made through {@link NativeIo} returned {@code -1}. The message names the call,
 * the path it was made on and the kernel's reason, e.g.
 * {@code fallocate(PUNCH_HOLE) /data/d1.img: Operation not supported (errno 95)}, so it can go to
 * an operator as it is; {@link #errno()} lets code branch on the cause.
 */
public final class NativeIoException extends IOException {

    private final int errno;
    private final String call;

    /** Public so fault-injecting layers in tests can fail exactly as the kernel would. */
    public NativeIoException(String call, String path, int errno, String reason) {
        super(call + " " + path + ": " + reason + " (errno " + errno + ")");
        this.errno = errno;
        this.call = call;
    }

    /** The {@code errno} the call left, as in {@code <errno.h>} on Linux x86-64. */
    public int errno() {
        return errno;
    }

    /** The call that failed, with its mode when it has one, e.g. {@code fallocate(ZERO_RANGE)}. */
    public String call() {
        return call;
    }
}
