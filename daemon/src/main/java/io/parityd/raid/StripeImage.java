package io.parityd.raid;

import java.nio.ByteBuffer;

/**
 * One stripe's chunks in memory, by role (data {@code 0..k-1}, P, Q; {@link Layout}), and the
 * reconstruction of lost ones from the rest: every one- and two-loss case of DESIGN.md "RAID".
 * Degraded reads, degraded writes that must reconstruct, scrub and rebuild all work through it.
 *
 * <p>Each role is bound to a buffer and the index of the stripe's column 0 in it: its own
 * chunk-sized scratch ({@link #scratch}), or a slice of a rebuild batch that holds many stripes
 * of one member back to back ({@link #bind}). Rebinding is two array stores, so a rebuild walks a
 * batch stripe by stripe without allocating.
 *
 * <p>Role masks are bit masks by role. Not thread-safe.
 */
final class StripeImage {

    private final Layout layout;
    private final int k;
    private final boolean hasP;
    private final boolean hasQ;
    private final long dataMask;
    private final ByteBuffer[] buf;
    private final int[] base;

    StripeImage(Layout layout) {
        this.layout = layout;
        this.k = layout.dataChunks();
        this.hasP = layout.parityChunks() >= 1;
        this.hasQ = layout.parityChunks() == 2;
        this.dataMask = (1L << k) - 1;
        this.buf = new ByteBuffer[layout.roles()];
        this.base = new int[layout.roles()];
    }

    /** An image with a chunk of aligned direct scratch per role. */
    static StripeImage scratch(Layout layout) {
        StripeImage image = new StripeImage(layout);
        for (int r = 0; r < layout.roles(); r++) {
            image.bind(r, StripeWriter.alignedDirect(layout.chunkSize()), 0);
        }
        return image;
    }

    void bind(int role, ByteBuffer buffer, int column0) {
        buf[role] = buffer;
        base[role] = column0;
    }

    ByteBuffer buffer(int role) {
        return buf[role];
    }

    /** Index in {@link #buffer} of column {@code x} of role {@code role}. */
    int index(int role, int x) {
        return base[role] + x;
    }

    long dataMask() {
        return dataMask;
    }

    long allRoles() {
        return (1L << layout.roles()) - 1;
    }

    /** The roles whose members are in {@code slotMask} for {@code stripe}. */
    long rolesOf(long stripe, long slotMask) {
        long roles = 0;
        for (long m = slotMask; m != 0; m &= m - 1) {
            roles |= 1L << layout.roleOfMember(stripe, Long.numberOfTrailingZeros(m));
        }
        return roles;
    }

    /** The slots holding the roles in {@code roleMask} for {@code stripe}. */
    long slotsOf(long stripe, long roleMask) {
        long slots = 0;
        for (long r = roleMask; r != 0; r &= r - 1) {
            slots |= 1L << layout.memberOfRole(stripe, Long.numberOfTrailingZeros(r));
        }
        return slots;
    }

    /**
     * The roles to read to recover the data among {@code lost}: all surviving data, plus P for
     * one lost data chunk (Q if P is lost too), plus P and Q for two. Lost parity needs only the
     * data. Returns -1 if the data among {@code lost} cannot be recovered.
     */
    long needed(long lost) {
        long lostData = lost & dataMask;
        long need = dataMask & ~lostData;
        int n = Long.bitCount(lostData);
        boolean pAlive = hasP && (lost & (1L << k)) == 0;
        boolean qAlive = hasQ && (lost & (1L << (k + 1))) == 0;
        if (n == 1 && pAlive) {
            return need | 1L << k;
        }
        if (n == 1 && qAlive) {
            return need | 1L << (k + 1);
        }
        if (n == 2 && pAlive && qAlive) {
            return need | 3L << k;
        }
        return n == 0 ? need : -1;
    }

    /**
     * Reads the roles in {@code roleMask} of {@code stripe}, columns {@code [x, x+len)}, from the
     * members. Returns false if a read failed; its slot is then faulty and the caller starts over
     * with the new set of failed slots.
     */
    boolean read(MemberSlots members, long stripe, long roleMask, int x, int len) {
        long offset = layout.memberOffset(stripe, x);
        for (long r = roleMask; r != 0; r &= r - 1) {
            int role = Long.numberOfTrailingZeros(r);
            ByteBuffer b = buf[role];
            int at = base[role] + x;
            int limit = b.limit();
            b.limit(at + len).position(at);
            try {
                if (!members.read(layout.memberOfRole(stripe, role), b, offset)) {
                    return false;
                }
            } finally {
                b.limit(limit);
            }
        }
        return true;
    }

    /**
     * Fills the lost roles over columns {@code [x, x+len)} from the others, which must hold what
     * {@link #needed} asked for: first lost data (P, Q, or both), then, with {@code parityToo},
     * lost P and Q recomputed from the now complete data.
     *
     * @return false if the loss is beyond what the level can recover
     */
    boolean recover(long lost, int x, int len, boolean parityToo) {
        long lostData = lost & dataMask;
        boolean pLost = hasP && (lost & (1L << k)) != 0;
        boolean qLost = hasQ && (lost & (1L << (k + 1))) != 0;
        int n = Long.bitCount(lostData);
        if (n == 1 && hasP && !pLost) {
            int d = Long.numberOfTrailingZeros(lostData);
            xorData(buf[d], base[d] + x, x, len, lostData);
            Parity.xorInto(buf[d], base[d] + x, buf[k], base[k] + x, len);
        } else if (n == 1 && hasQ && !qLost) {
            int d = Long.numberOfTrailingZeros(lostData);
            hornerData(buf[d], base[d] + x, x, len, lostData);
            Parity.xorInto(buf[d], base[d] + x, buf[k + 1], base[k + 1] + x, len);
            Raid6Recovery.dataFromQ(buf[d], base[d] + x, len, d);
        } else if (n == 2 && hasQ && !pLost && !qLost) {
            int dx = Long.numberOfTrailingZeros(lostData);
            int dy = 63 - Long.numberOfLeadingZeros(lostData);
            xorData(buf[dx], base[dx] + x, x, len, lostData);
            Parity.xorInto(buf[dx], base[dx] + x, buf[k], base[k] + x, len);
            hornerData(buf[dy], base[dy] + x, x, len, lostData);
            Parity.xorInto(buf[dy], base[dy] + x, buf[k + 1], base[k + 1] + x, len);
            Raid6Recovery.twoData(buf[dx], base[dx] + x, buf[dy], base[dy] + x, len, dx, dy);
        } else if (n != 0) {
            return false;
        }
        if (parityToo && pLost) {
            computeP(buf[k], base[k] + x, x, len);
        }
        if (parityToo && qLost) {
            computeQ(buf[k + 1], base[k + 1] + x, x, len);
        }
        return true;
    }

    /** {@code dst = XOR of every data chunk} over columns {@code [x, x+len)}. */
    void computeP(ByteBuffer dst, int at, int x, int len) {
        int last = k - 1;
        Parity.copy(dst, at, buf[last], base[last] + x, len);
        for (int d = last - 1; d >= 0; d--) {
            Parity.xorInto(dst, at, buf[d], base[d] + x, len);
        }
    }

    /** {@code dst = Σ gᵈ·Dd} over columns {@code [x, x+len)}. */
    void computeQ(ByteBuffer dst, int at, int x, int len) {
        hornerData(dst, at, x, len, 0);
    }

    /** XOR of the data chunks not in {@code skip}, into {@code dst}; zeroes if all are skipped. */
    private void xorData(ByteBuffer dst, int at, int x, int len, long skip) {
        boolean first = true;
        for (int d = 0; d < k; d++) {
            if ((skip & (1L << d)) != 0) {
                continue;
            }
            if (first) {
                Parity.copy(dst, at, buf[d], base[d] + x, len);
                first = false;
            } else {
                Parity.xorInto(dst, at, buf[d], base[d] + x, len);
            }
        }
        if (first) {
            Parity.clear(dst, at, len);
        }
    }

    /** {@code dst = Σ gᵈ·Dd} over the data chunks not in {@code skip} (skipped count as zero). */
    private void hornerData(ByteBuffer dst, int at, int x, int len, long skip) {
        boolean first = true;
        for (int d = k - 1; d >= 0; d--) {
            boolean zero = (skip & (1L << d)) != 0;
            if (first) {
                if (zero) {
                    Parity.clear(dst, at, len);
                } else {
                    Parity.copy(dst, at, buf[d], base[d] + x, len);
                }
                first = false;
            } else if (zero) {
                QSyndrome.times2(dst, at, len);
            } else {
                QSyndrome.step(dst, at, buf[d], base[d] + x, len);
            }
        }
    }
}
