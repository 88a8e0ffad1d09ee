package io.parityd.protocol;

/**
 * Memory for the requests of every connection together (issue 14: one global budget): the
 * request decoder reserves a WRITE's payload, or the reply buffer a READ will need, before it
 * allocates anything, and the transmission handler gives it back when the request is answered. A
 * reservation that does not fit waits: the decoder stops reading that connection (it fires
 * {@link Wait#WAITING} down the pipeline) until memory is given back, then goes on
 * ({@link Wait#GRANTED}). So no mix of clients can make the process allocate more than the budget,
 * and running short is backpressure, never an error.
 */
public interface PayloadMemory {

    /** No limit: every reservation fits. */
    PayloadMemory UNLIMITED = new PayloadMemory() {
        @Override
        public boolean reserve(long bytes, Runnable whenFree) {
            return true;
        }

        @Override
        public void release(long bytes) {
        }
    };

    /**
     * Takes {@code bytes} if they fit now and returns true. Otherwise returns false and runs
     * {@code whenFree} once (on whichever thread gives memory back) when it may fit: the caller
     * then asks again.
     */
    boolean reserve(long bytes, Runnable whenFree);

    /** Gives back {@code bytes} reserved before. */
    void release(long bytes);

    /** The user events the request decoder fires while a connection waits for memory. */
    enum Wait {
        /** The next request's memory does not fit: stop reading this connection. */
        WAITING,
        /** It fits now: the connection may read again. */
        GRANTED
    }
}
