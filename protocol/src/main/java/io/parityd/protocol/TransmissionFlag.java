package io.parityd.protocol;

/** Bits of the 16-bit transmission flags field (proto.md "Transmission flags"). */
public enum TransmissionFlag {
    HAS_FLAGS(0),
    READ_ONLY(1),
    SEND_FLUSH(2),
    SEND_FUA(3),
    ROTATIONAL(4),
    SEND_TRIM(5),
    SEND_WRITE_ZEROES(6),
    SEND_DF(7),
    CAN_MULTI_CONN(8),
    SEND_RESIZE(9),
    SEND_CACHE(10),
    SEND_FAST_ZERO(11);

    private final int bit;

    TransmissionFlag(int shift) {
        this.bit = 1 << shift;
    }

    /** The flag's value in the flags field. */
    public int bit() {
        return bit;
    }
}
