package io.parityd.link;

/** Frame types, with the codes that go on the wire ({@link LinkFormat} byte 3). Codes never change. */
public enum MessageType {
    HELLO(1),
    AUTH(2),
    REFUSE(3),
    REQUEST(10),
    REPLY(11),
    HEARTBEAT(20),
    ASSIGN(21),
    ASSIGNED(22),
    RECEIVED(30),
    RETIRED(31),
    FINISHED(32),
    CATCH_UP_RECORD(40),
    CATCH_UP_END(41),
    CATCH_UP_REQUEST(42),
    PREIMAGE(43),
    PREIMAGE_HELD(44),
    PEER_LOST(50),
    ARRAY_INFO(51);

    /** Dense code → type table: decoding a frame header allocates nothing. */
    private static final MessageType[] BY_CODE = new MessageType[52];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    MessageType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** @throws IllegalArgumentException for a code no type has */
    public static MessageType fromCode(int code) {
        MessageType type = find(code);
        if (type == null) {
            throw new IllegalArgumentException("unknown message type " + code);
        }
        return type;
    }

    /** The type of {@code code}, or null when there is none. */
    static MessageType find(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
