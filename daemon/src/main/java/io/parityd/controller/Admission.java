package io.parityd.controller;

/**
 * Whether the front may read new requests from its clients (DESIGN.md "NVRAM": when the NVRAM is
 * full, the front stops reading until records retire — backpressure, never an error). While it is
 * closed, every connection in the transmission phase stops reading from its socket; requests
 * already read are still handed over and answered, and clients simply wait.
 *
 * <p>Watchers register with {@link #onChange} first and read {@link #open()} after, so that no
 * change falls between the two.
 */
public interface Admission {

    /** Never closes: for controllers with nothing to protect by backpressure. */
    Admission ALWAYS = new Admission() {
        @Override
        public boolean open() {
            return true;
        }

        @Override
        public void onChange(Runnable listener) {
            // never changes, so never calls
        }

        @Override
        public String reason() {
            return "";
        }

        @Override
        public String toString() {
            return "Admission.ALWAYS";
        }
    };

    /** True while new requests may be read. */
    boolean open();

    /**
     * Calls {@code listener}, on any thread and possibly more than once per change, whenever
     * {@link #open()} may have changed; the listener reads the current value itself. Listeners
     * must return quickly and must not block.
     */
    void onChange(Runnable listener);

    /** Why admission is closed, for the log; empty while it is open. */
    String reason();
}
