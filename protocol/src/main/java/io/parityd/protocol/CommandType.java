package io.parityd.protocol;

/**
 * Request types (proto.md "Request types"). A code this server does not know decodes to
 * {@link #UNKNOWN}, which is answered with {@code EINVAL}; the raw code stays on the request
 * for the log.
 */
public enum CommandType {
    READ(0),
    WRITE(1),
    DISC(2),
    FLUSH(3),
    TRIM(4),
    CACHE(5),
    WRITE_ZEROES(6),
    BLOCK_STATUS(7),
    RESIZE(8),
    UNKNOWN(-1);

    /** Dense code → type table: decoding a request allocates no {@code values()} copy. */
    private static final CommandType[] BY_CODE = new CommandType[9];

    static {
        for (CommandType t : values()) {
            if (t.code >= 0) {
                BY_CODE[t.code] = t;
            }
        }
    }

    private final int code;

    CommandType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static CommandType fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : UNKNOWN;
    }
}
