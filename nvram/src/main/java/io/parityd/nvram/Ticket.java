package io.parityd.nvram;

/**
 * The sequence numbers {@link Journal#begin} gave one request, before its records are written.
 *
 * @param firstSeq the first piece's sequence number
 * @param lastSeq  the last piece's
 * @param bytes    data bytes the request carries (0 for TRIM and WRITE_ZEROES)
 */
public record Ticket(long firstSeq, long lastSeq, int bytes) {

    public int pieces() {
        return Math.toIntExact(lastSeq - firstSeq + 1);
    }
}
