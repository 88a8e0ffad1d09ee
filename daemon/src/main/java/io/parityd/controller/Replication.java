package io.parityd.controller;

import java.util.concurrent.CompletableFuture;

/**
 * What a {@link JournaledController} does differently as the primary of an HA pair (DESIGN.md "The
 * write path (HA mode)") than in single-process mode: when a write is answered, what a member
 * write waits for besides its own journal record, and whom it tells when records retire.
 *
 * <p>In single-process mode ({@link #NONE}) a write is answered once journaled, as a disk with a
 * write cache answers, because the journal alone can redo it. In HA mode the client's write is
 * answered once the primary has completed it (the invariant 3), and it touches the members
 * only once the standby holds it too, so whichever controller survives can redo it.
 */
public interface Replication {

    /** Single-process mode: answer once journaled, nothing to wait for, nobody to tell. */
    Replication NONE = new Replication() {
        @Override
        public boolean answerWhenApplied() {
            return false;
        }

        @Override
        public CompletableFuture<Void> mayApply(long seq) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void retiredThrough(long seq) {
        }
    };

    /** True: answer a write once it is on the members; false: once journaled. */
    boolean answerWhenApplied();

    /**
     * Completes when the request the front numbered {@code seq} may touch the members (in HA mode:
     * the standby checkpointed it, and this controller still holds the front's lease); fails if it
     * never may (this controller was fenced), and the request then fails without touching them.
     */
    CompletableFuture<Void> mayApply(long seq);

    /** Every request the front numbered up to {@code seq} is on the members, synced, and out of the journal here. */
    void retiredThrough(long seq);

    /**
     * A degraded stripe's preimage ({@code io.parityd.raid.Preimage}), already durable in this
     * controller's journal, for the request the front numbered {@code ownerSeq}: completes once the
     * standby holds it too, so whichever controller survives can restore the stripe. {@code
     * encoded} is valid only during the call. By default (no standby) at once.
     */
    default CompletableFuture<Void> preimage(long ownerSeq, long offset, java.nio.ByteBuffer encoded) {
        return CompletableFuture.completedFuture(null);
    }

    /**
     * The request the front numbered {@code seq} is on the members (written, not yet synced); one
     * that failed is never reported. The standby uses it to resync less at a promotion on the same
     * boot ({@code io.parityd.link.Finished}). Called on an I/O thread. By default nobody to tell.
     */
    default void finished(long seq) {
    }

    /**
     * The journal record of the write the front numbered {@code seq}, appended here: the standby
     * must hold it too before the members are touched ({@link #mayApply} waits for that). {@code
     * data} is the write's bytes for a data journal (this call takes ownership of it and releases
     * it), null for a commands journal's record. By default (no standby) nothing to send.
     */
    default void record(long seq, io.parityd.nvram.RecordKind kind, long offset, long length, int flags,
                        io.netty.buffer.ByteBuf data) {
        if (data != null) {
            data.release();
        }
    }
}
