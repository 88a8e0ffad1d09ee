package io.parityd.link;

/** What a node on the other end of a link is, as its Hello says. Codes never change. */
public enum NodeKind {
    FRONT(1),
    CONTROLLER(2);

    private final int code;

    NodeKind(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** @throws IllegalArgumentException for a code no kind has */
    public static NodeKind fromCode(int code) {
        for (NodeKind k : values()) {
            if (k.code == code) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown node kind " + code);
    }
}
