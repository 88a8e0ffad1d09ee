package io.parityd.raid;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What a degraded stripe's lost data chunks hold once a write to the stripe is done (their
 * contents before it, with the write's own bytes where it covers them): the piece of redundancy a
 * crash in the middle of that write would otherwise destroy. (The name and the journal's record
 * kind are older than the choice to save the image after the write rather than before it: with a
 * commands journal nothing is redone, so the image must be the one that keeps an answered write.)
 *
 * <p>Why it is needed. A stripe with a member down stores that member's chunk only as parity.
 * A write to the stripe changes data chunks and parity one after another; a crash between them
 * leaves parity that matches neither the old nor the new data, and the lost chunk, computed from
 * that parity, is garbage. A healthy stripe heals by recomputing parity from its data; a degraded
 * one cannot, because part of its data exists only as that parity. Redoing the journaled request
 * does not help either: it rewrites the request's bytes, but the lost chunk's bytes outside the
 * request were never in any request. So before such a write touches a member, the stripe writer
 * hands the lost chunks' contents after the write over the columns it will change to a
 * {@link PreimageLog}, which makes them durable; recovery recomputes the parity of those columns
 * from the surviving data and this image ({@link RaidVolume#restoreParity}). A data journal then
 * redoes the requests (which find the lost chunk already holding their bytes); a commands journal
 * redoes nothing: each surviving chunk holds its old or new bytes, the lost one its new.
 *
 * <p>Encoded form ({@link #encode}, big-endian), opaque to the journal:
 * <pre>
 *  0   8  stripe
 *  8   4  column      first byte within each chunk
 * 12   4  length      bytes per lost chunk
 * 16   8  lostData    data roles (bit d: data chunk d) whose images follow
 * 24   …  images      one per bit of lostData, lowest role first, each {@code length} bytes
 * </pre>
 *
 * @param stripe   the stripe
 * @param column   first column (byte within a chunk) the images cover
 * @param length   columns covered
 * @param lostData data roles whose chunks were lost, as a bit mask
 * @param images   the chunks' contents over {@code [column, column+length)}, lowest role first;
 *                 {@code bitCount(lostData) * length} bytes from position to limit
 */
public record Preimage(long stripe, int column, int length, long lostData, ByteBuffer images) {

    static final int HEADER_BYTES = 24;

    public Preimage {
        if (stripe < 0 || column < 0 || length <= 0 || lostData == 0) {
            throw new IllegalArgumentException("preimage of stripe " + stripe + ", columns " + column + "+" + length
                    + ", data roles " + Long.toBinaryString(lostData) + " is not a preimage");
        }
        if (images.remaining() != (long) Long.bitCount(lostData) * length) {
            throw new IllegalArgumentException("preimage of " + Long.bitCount(lostData) + " chunks of " + length
                    + " bytes has " + images.remaining() + " bytes of images");
        }
    }

    /** Where the image of data role {@code role} starts in {@link #images}, relative to its position. */
    int imageAt(int role) {
        return Long.bitCount(lostData & ((1L << role) - 1)) * length;
    }

    /** The encoded form, a new buffer positioned at 0. */
    public ByteBuffer encode() {
        ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES + images.remaining()).order(ByteOrder.BIG_ENDIAN);
        out.putLong(stripe).putInt(column).putInt(length).putLong(lostData).put(images.duplicate());
        return out.flip();
    }

    /**
     * Decodes {@link #encode}'s form from {@code in}'s remaining bytes.
     *
     * @throws IllegalArgumentException if they are not a preimage
     */
    public static Preimage decode(ByteBuffer in) {
        ByteBuffer b = in.duplicate().order(ByteOrder.BIG_ENDIAN);
        if (b.remaining() < HEADER_BYTES) {
            throw new IllegalArgumentException("a preimage of " + b.remaining() + " bytes is shorter than its header");
        }
        long stripe = b.getLong();
        int column = b.getInt();
        int length = b.getInt();
        long lostData = b.getLong();
        return new Preimage(stripe, column, length, lostData, b.slice());
    }
}
