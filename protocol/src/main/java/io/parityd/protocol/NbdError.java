package io.parityd.protocol;

/**
 * Error values a server may put in a reply (proto.md "Error values"). The spec restricts replies
 * to this set; anything else a server meets is mapped to one of these before it leaves.
 */
public enum NbdError {
    EPERM(1),
    EIO(5),
    ENOMEM(12),
    EINVAL(22),
    ENOSPC(28),
    EOVERFLOW(75),
    ENOTSUP(95),
    ESHUTDOWN(108);

    private final int code;

    NbdError(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The error with this wire code; unknown codes read as {@link #EINVAL}, as the spec tells clients to. */
    public static NbdError fromCode(int code) {
        for (NbdError e : values()) {
            if (e.code == code) {
                return e;
            }
        }
        return EINVAL;
    }
}
