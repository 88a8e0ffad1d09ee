package io.parityd.raid;

/**
 * What the array thinks of one member slot, as the superblock's member table records it. The
 * numeric codes are on disk: never renumber them, only add.
 */
public enum MemberState {
    /** Holds current data and parity; reads and writes go to it. */
    ACTIVE(1),
    /** Failed an I/O or a sync; the array runs without it until it is replaced. */
    FAULTY(2),
    /** Standing by, holds nothing yet; becomes REBUILDING when a member fails. */
    SPARE(3),
    /** Being filled from the others; data below its rebuild position is current. */
    REBUILDING(4),
    /** Known to the array but absent (not found when the array was assembled). */
    MISSING(5);

    private final int code;

    MemberState(int code) {
        this.code = code;
    }

    /** The value stored in the superblock. */
    public int code() {
        return code;
    }

    /** The state stored as {@code code}; unknown codes mean the record is not one we understand. */
    public static MemberState fromCode(int code) {
        for (MemberState state : values()) {
            if (state.code == code) {
                return state;
            }
        }
        throw new IllegalArgumentException("unknown member state code " + code);
    }
}
