package io.parityd.raid;

import java.io.IOException;

/**
 * Where a striped volume puts the {@link Preimage} of a degraded stripe before it writes the
 * stripe: the write journal, which keeps it until the write is on the members.
 */
@FunctionalInterface
public interface PreimageLog {

    /** Keeps nothing: for volumes whose owner redoes nothing after a crash (no journal). */
    PreimageLog NONE = preimage -> { };

    /**
     * Returns once {@code preimage} is durable: a crash from then on finds it. Called on the
     * writing thread, under the stripe's lock, before any member of the stripe is written; the
     * images are valid only during the call.
     *
     * @throws IOException if it cannot be kept; the write then fails before touching the stripe
     */
    void save(Preimage preimage) throws IOException;
}
