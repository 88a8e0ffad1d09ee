package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * Lets the socket read a WRITE payload straight into the buffer that will carry it, so each
 * payload byte is copied once, by the kernel, instead of once more from Netty's read buffer into
 * a cumulation. On two cores that second copy cost a fifth of the daemon's CPU on 1 MiB writes.
 *
 * <p>How: once {@link RequestDecoder} has parsed a WRITE header whose payload has not fully
 * arrived, it allocates the payload buffer at its final size and {@link #expect expects} it
 * here. Until it is full, every read buffer the channel asks its {@link RecvByteBufAllocator}
 * for is a slice of the payload's unwritten tail, so the kernel copies socket bytes directly into
 * place; the decoder recognises such a slice when it arrives ({@link #owns}) and only advances the
 * payload's writer index. Anything else the channel reads still comes in ordinary buffers.
 *
 * <p>Single-threaded: the allocator, the read and the decoder all run on the channel's event loop.
 */
final class PayloadReceiver {

    /**
     * Size of the first read after a payload that was read into place: room for the next request
     * header and a little, so that if it is another large WRITE, most of its payload is again read
     * into place rather than into an ordinary buffer that must then be copied.
     */
    static final int READ_AFTER_PAYLOAD = 16 << 10;

    /** The payload being filled, or null. */
    private ByteBuf payload;
    /** The last slice handed to the socket; identity tells the decoder a read went into place. */
    private ByteBuf lent;
    /** A payload was just read into place: keep the next read short. */
    private boolean shortNextRead;
    /** Payload bytes the socket wrote straight into place, for tests and curious operators. */
    private long bytesInPlace;

    /** Directs the following socket reads into {@code payload}'s writable bytes. */
    void expect(ByteBuf payload) {
        this.payload = payload;
        this.lent = null;
    }

    /** Stops directing reads; the payload (complete or abandoned) now belongs to the caller. */
    void clear() {
        shortNextRead = lent != null;
        payload = null;
        lent = null;
    }

    /** Counts bytes that arrived straight in the payload buffer. */
    void landed(int bytes) {
        bytesInPlace += bytes;
    }

    long bytesInPlace() {
        return bytesInPlace;
    }

    /** True if {@code msg} is a read that already landed in the expected payload. */
    boolean owns(Object msg) {
        return msg != null && msg == lent && payload != null;
    }

    /** The channel's allocator, wrapped so reads land in the expected payload while there is one. */
    RecvByteBufAllocator wrap(RecvByteBufAllocator delegate) {
        return new Allocator(delegate);
    }

    private ByteBuf lend() {
        lent = payload.retainedSlice(payload.writerIndex(), payload.writableBytes()).clear();
        return lent;
    }

    private final class Allocator implements RecvByteBufAllocator {
        private final RecvByteBufAllocator delegate;

        Allocator(RecvByteBufAllocator delegate) {
            this.delegate = delegate;
        }

        @Override
        public Handle newHandle() {
            return new DirectingHandle((RecvByteBufAllocator.ExtendedHandle) delegate.newHandle());
        }
    }

    /** Delegates everything, except that it hands out payload slices while a payload is expected. */
    @SuppressWarnings("deprecation")
    private final class DirectingHandle implements RecvByteBufAllocator.ExtendedHandle {
        private final RecvByteBufAllocator.ExtendedHandle delegate;

        DirectingHandle(RecvByteBufAllocator.ExtendedHandle delegate) {
            this.delegate = delegate;
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            if (payload != null && payload.isWritable()) {
                return lend();
            }
            if (shortNextRead) {
                shortNextRead = false;
                return alloc.ioBuffer(READ_AFTER_PAYLOAD);
            }
            return delegate.allocate(alloc);
        }

        @Override
        public int guess() {
            return payload != null && payload.isWritable() ? payload.writableBytes() : delegate.guess();
        }

        @Override
        public void reset(ChannelConfig config) {
            delegate.reset(config);
        }

        @Override
        public void incMessagesRead(int numMessages) {
            delegate.incMessagesRead(numMessages);
        }

        @Override
        public void lastBytesRead(int bytes) {
            delegate.lastBytesRead(bytes);
        }

        @Override
        public int lastBytesRead() {
            return delegate.lastBytesRead();
        }

        @Override
        public void attemptedBytesRead(int bytes) {
            delegate.attemptedBytesRead(bytes);
        }

        @Override
        public int attemptedBytesRead() {
            return delegate.attemptedBytesRead();
        }

        @Override
        public boolean continueReading() {
            return delegate.continueReading();
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return delegate.continueReading(maybeMoreDataSupplier);
        }

        @Override
        public void readComplete() {
            delegate.readComplete();
        }
    }
}
