package io.parityd.controller;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * Where the front hands complete requests (DESIGN.md "Processes"). The front holds each
 * request's payload until the returned future completes, then replies; the controller decides
 * how and where the request is executed: in single-process mode on local I/O threads, in HA
 * mode on the primary of a controller pair after the standby checkpointed it.
 *
 * <p>Buffers passed in stay valid, and unchanged, until the future completes. A controller that
 * needs a write's payload after that (a link may send it later than the answer comes, as a
 * joining standby's does) takes a reference of its own ({@link ByteBuf#retainedDuplicate()})
 * and releases it when done; it never keeps a plain view of the caller's memory, which the
 * caller's pool hands to the next request once the future completes. A future that fails
 * completes with a
 * {@link RequestFailedException} saying what the client should be told.
 *
 * <p>Methods return at once: they never block the caller (the front calls them on its event
 * loops).
 */
public interface Controller extends AutoCloseable {

    /** Bytes the volume exports. */
    long size();

    /** Fills {@code dst} (all of its remaining bytes) from the volume at {@code offset}. */
    CompletableFuture<Void> read(long offset, ByteBuffer dst);

    /**
     * Reads {@code length} bytes at {@code offset} into a buffer the caller then owns and
     * releases. By default a direct buffer from {@code alloc}, filled by
     * {@link #read(long, ByteBuffer)}; a controller whose answer arrives in a buffer of its own
     * (HA: the primary's reply off the link) hands that buffer over instead of copying it.
     */
    default CompletableFuture<ByteBuf> read(long offset, int length, ByteBufAllocator alloc) {
        ByteBuf data = alloc.directBuffer(length, length);
        data.writerIndex(length);
        CompletableFuture<ByteBuf> result = new CompletableFuture<>();
        CompletableFuture<Void> filled;
        try {
            filled = read(offset, data.nioBuffer(0, length));
        } catch (RuntimeException e) {
            data.release();
            throw e;
        }
        filled.whenComplete((v, failure) -> {
            if (failure != null) {
                data.release();
                result.completeExceptionally(failure);
            } else if (!result.complete(data)) {
                data.release();
            }
        });
        return result;
    }

    /**
     * Writes all readable bytes of {@code data} at {@code offset}; with {@code fua}, durably
     * before completing. The caller owns {@code data} (see the class comment).
     */
    CompletableFuture<Void> write(long offset, ByteBuf data, boolean fua);

    /** As {@link #write(long, ByteBuf, boolean)}, for a caller that holds a plain buffer. */
    default CompletableFuture<Void> write(long offset, ByteBuffer data, boolean fua) {
        return write(offset, Unpooled.wrappedBuffer(data), fua);
    }

    /**
     * Makes the range read as zeroes. With {@code fastOnly} the request fails with
     * {@link RequestFailedException.Reason#NOT_FAST} before changing anything unless zeroing is
     * cheaper than writing zeroes.
     */
    CompletableFuture<Void> writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly, boolean fua);

    /** Tells the volume the range is no longer needed; it may do nothing. */
    CompletableFuture<Void> trim(long offset, long length, boolean fua);

    /** Makes every write that completed before this call durable. */
    CompletableFuture<Void> flush();

    /**
     * Whether the front may read new requests now; the front watches it and stops reading from
     * every client while it is closed. The same object for the controller's whole life. By
     * default always open.
     */
    default Admission admission() {
        return Admission.ALWAYS;
    }

    /**
     * Stops taking requests, waits for the ones under way and makes everything durable.
     * Requests submitted afterwards fail with {@link RequestFailedException.Reason#SHUTTING_DOWN}.
     * The volume itself belongs to whoever assembled it, who closes it (and marks the array
     * clean) after this returns.
     */
    @Override
    void close() throws Exception;
}
