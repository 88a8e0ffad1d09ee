package io.parityd.raid;

import java.io.IOException;

/**
 * The error of a request that needs data no surviving member can provide (RaidVolume's contract):
 * it names the stripe, the failed slots and what the level survives, so the operator sees at once
 * why this request failed while others succeed. Built only on that path.
 */
final class Unrecoverable {

    private Unrecoverable() {
    }

    static IOException stripe(Layout layout, long stripe, long lostSlots, int redundancy) {
        return stripes(layout.level(), stripe, stripe, lostSlots, redundancy);
    }

    static IOException stripes(int level, long first, long last, long lostSlots, int redundancy) {
        String where = first == last ? "stripe " + first : "stripes " + first + "-" + last;
        return new IOException(where + " cannot be served: " + slots(lostSlots) + " failed, and RAID-" + level
                + " survives the loss of " + redundancy);
    }

    /** "slot 3" or "slots 1, 3". */
    static String slots(long mask) {
        StringBuilder b = new StringBuilder(Long.bitCount(mask) == 1 ? "slot " : "slots ");
        for (long m = mask; m != 0; m &= m - 1) {
            b.append(Long.numberOfTrailingZeros(m));
            if ((m & (m - 1)) != 0) {
                b.append(", ");
            }
        }
        return b.toString();
    }
}
