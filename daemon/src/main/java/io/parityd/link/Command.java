package io.parityd.link;

/** What a {@link Request} or {@link CatchUpRecord} does to the volume. Codes never change. */
public enum Command {
    READ(0),
    WRITE(1),
    FLUSH(2),
    TRIM(3),
    WRITE_ZEROES(4);

    private static final Command[] BY_CODE = new Command[5];

    static {
        for (Command c : values()) {
            BY_CODE[c.code] = c;
        }
    }

    private final int code;

    Command(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Only a WRITE carries data: exactly {@code length} bytes of it. */
    public boolean carriesData() {
        return this == WRITE;
    }

    /** @throws IllegalArgumentException for a code no command has */
    public static Command fromCode(int code) {
        if (code < 0 || code >= BY_CODE.length) {
            throw new IllegalArgumentException("unknown command " + code);
        }
        return BY_CODE[code];
    }
}
