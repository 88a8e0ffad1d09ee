package io.parityd.metrics;

/**
 * Array events that metrics count and a status snapshot cannot tell (it holds the present, not how
 * often something happened). The array's operator side reports them; {@link #NONE} when metrics
 * are off.
 */
public interface ArrayEvents {

    ArrayEvents NONE = new ArrayEvents() {
    };

    /** A member failed (an I/O error, a failed sync, or an operator's {@code fail}). */
    default void memberFailed(int slot) {
    }

    /** A scrub, resync or journal replay found {@code count} stripes whose redundancy did not match. */
    default void mismatchesFound(long count) {
    }
}
