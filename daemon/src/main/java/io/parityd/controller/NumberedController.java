package io.parityd.controller;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * A controller that also takes the front's numbers for its requests (DESIGN.md "The write path
 * (HA mode)"): the HA primary's, whichever the journal's mode. Each write's {@code seq} goes into
 * its journal record and to the standby, so both controllers name the same request the same way.
 */
public interface NumberedController extends Controller {

    CompletableFuture<Void> write(long seq, long offset, ByteBuf data, boolean fua);

    CompletableFuture<Void> writeZeroes(long seq, long offset, long length, boolean mayDeallocate, boolean fastOnly,
                                        boolean fua);

    CompletableFuture<Void> trim(long seq, long offset, long length, boolean fua);

    /** Completes once every request submitted before this call is in the journal (a joining standby copies from there). */
    CompletableFuture<Void> journaledSoFar();

    @Override
    CompletableFuture<Void> read(long offset, ByteBuffer dst);
}
