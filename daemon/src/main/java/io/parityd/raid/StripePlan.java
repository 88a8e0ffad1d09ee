package io.parityd.raid;

import java.io.IOException;

/**
 * The degraded-write planning of a {@link StripeWriter}: what one stripe write may do given the
 * members it cannot use, and whether its data survived the writes. Each attempt starts with a
 * {@link #snapshot} of the stripe's unusable members, from which {@link #choose} picks each
 * segment's cheapest feasible method: read-modify-write ({@code P' = P ^ Dold ^ Dnew},
 * {@code Q' = Q ^ gᵈ·(Dold ^ Dnew)}; reads the written chunks and the parity), reconstruct-write
 * (P and Q from all data; reads the unwritten chunks), or, when a RAID-6 stripe lost both a
 * written and an unwritten chunk, a full reconstruction first. A tie goes to reconstruct-write,
 * as md does, because it rebuilds parity from data rather than carrying forward what it held.
 *
 * <p>Holds only masks and flags, reset by every snapshot: one per writer, confined to its thread.
 */
final class StripePlan {

    static final int NONE = 0;
    static final int RMW = 1;
    static final int RCW = 2;
    static final int RECONSTRUCT = 3;

    private final Layout layout;
    private final int k;
    private final boolean hasP;
    private final boolean hasQ;
    private final int redundancy;

    private long stripe;
    private long lost;
    private long lostData;
    private boolean pAlive;
    private boolean qAlive;
    private boolean beyond;
    /** Slots this request did not write because they were down: their failure must be recorded before the ack. */
    private long skipped;

    StripePlan(Layout layout, int redundancy) {
        this.layout = layout;
        this.k = layout.dataChunks();
        this.hasP = layout.parityChunks() >= 1;
        this.hasQ = layout.parityChunks() == 2;
        this.redundancy = redundancy;
    }

    /** Starts an attempt at {@code stripe}, whose unusable members are {@code lost}. */
    void snapshot(long stripe, long lost) {
        this.stripe = stripe;
        this.lost = lost;
        lostData = 0;
        pAlive = hasP;
        qAlive = hasQ;
        beyond = Long.bitCount(lost) > redundancy;
        if (lost == 0) {
            return;
        }
        for (int d = 0; d < k; d++) {
            if ((lost & (1L << layout.dataMember(stripe, d))) != 0) {
                lostData |= 1L << d;
            }
        }
        pAlive = hasP && (lost & (1L << layout.parityMember(stripe))) == 0;
        qAlive = hasQ && (lost & (1L << layout.qMember(stripe))) == 0;
    }

    /** Members of the stripe that are neither read nor written in this attempt. */
    long lost() {
        return lost;
    }

    boolean pAlive() {
        return pAlive;
    }

    boolean qAlive() {
        return qAlive;
    }

    /** A full-stripe write needs every data chunk it writes to land or be reconstructable. */
    void checkFullWrite() throws IOException {
        if (beyond && lostData != 0) {
            throw Unrecoverable.stripe(layout, stripe, lost, redundancy);
        }
    }

    /**
     * The cheapest method that can produce the parity of a segment writing the data chunks in
     * {@code written} (a bit mask by data index) with the members left.
     *
     * @throws IOException if the segment writes a lost chunk and the stripe is beyond redundancy
     */
    int choose(long written) throws IOException {
        long writtenLost = written & lostData;
        int alive = (pAlive ? 1 : 0) + (qAlive ? 1 : 0);
        if (beyond) {
            if (writtenLost != 0) {
                throw Unrecoverable.stripe(layout, stripe, lost, redundancy);
            }
            return alive == 0 ? NONE : RMW;
        }
        if (alive == 0) {
            return NONE;
        }
        if (lostData == 0) {
            int n = Long.bitCount(written);
            return n + alive < k - n ? RMW : RCW;
        }
        if (writtenLost == 0) {
            return RMW;
        }
        return (lostData & ~written) == 0 ? RCW : RECONSTRUCT;
    }

    /**
     * After the writes: the data is safe if every written chunk either landed or can be
     * reconstructed from the members left; otherwise the request fails naming the stripe.
     *
     * @return {@code touched}
     */
    long afterWrites(long touched, long failed, long dataSlots) throws IOException {
        long nowLost = lost | failed;
        skipped |= nowLost;
        if (failed != 0 && Long.bitCount(nowLost) > redundancy && (dataSlots & nowLost) != 0) {
            throw Unrecoverable.stripe(layout, stripe, nowLost, redundancy);
        }
        return touched;
    }

    /** Slots skipped since the last call, and forgets them. */
    long takeSkipped() {
        long s = skipped;
        skipped = 0;
        return s;
    }
}
