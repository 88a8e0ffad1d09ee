package io.parityd.link;

import java.util.Arrays;

/**
 * Primary → standby: the writes the front numbered {@code seqs} are on the members (written, not
 * yet synced). The standby keeps this beside the commands it holds: if it is promoted while the
 * old primary's page cache survives (same host, same boot), only the commands not yet finished
 * name stripes that may lie, so only those are resynced (issue 13, the failover stall). A seq
 * the standby does not hold is ignored; a seq missing from every Finished only costs a resync.
 */
public record Finished(long[] seqs) implements LinkMessage {

    /** Most seqs one message carries (8 bytes each): a busy primary sends several. */
    public static final int MAX_SEQS = 1 << 16;

    public Finished {
        if (seqs.length > MAX_SEQS) {
            throw new IllegalArgumentException(seqs.length + " seqs in one Finished, at most " + MAX_SEQS);
        }
        seqs = seqs.clone();
    }

    @Override
    public long[] seqs() {
        return seqs.clone();
    }

    /** How many seqs it carries. */
    public int count() {
        return seqs.length;
    }

    /** The {@code i}th seq. */
    public long seq(int i) {
        return seqs[i];
    }

    @Override
    public MessageType type() {
        return MessageType.FINISHED;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Finished f && Arrays.equals(seqs, f.seqs);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(seqs);
    }

    @Override
    public String toString() {
        return "Finished[" + seqs.length + " seqs" + (seqs.length > 0 ? ", first " + seqs[0] : "") + "]";
    }
}
