package io.parityd.protocol;

/** Bits of the 16-bit command flags field of a request (proto.md "Command flags"). */
public enum CommandFlag {
    FUA(0),
    NO_HOLE(1),
    DF(2),
    REQ_ONE(3),
    FAST_ZERO(4),
    PAYLOAD_LEN(5);

    private final int bit;

    CommandFlag(int shift) {
        this.bit = 1 << shift;
    }

    public int bit() {
        return bit;
    }

    /** True if {@code flags} has this bit set. */
    public boolean in(int flags) {
        return (flags & bit) != 0;
    }
}
