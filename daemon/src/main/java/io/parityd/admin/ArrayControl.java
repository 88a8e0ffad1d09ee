package io.parityd.admin;

import java.nio.file.Path;

/**
 * What operators may ask of a running array, as the admin socket exposes it. Implemented by the
 * service that runs the array; every method may block briefly (superblock writes) and is called
 * off the event loop. Failures that the operator should read throw {@link ControlException} with a
 * message naming the problem and the fix; the array is unchanged when one is thrown.
 */
public interface ArrayControl {

    /** A snapshot of the array, its members and any running rebuild or scrub. */
    ArrayStatus status();

    /**
     * Marks a member faulty, as an I/O error would (for drills). Refused, unless {@code force}, for
     * a member the array cannot lose: one whose loss would leave stripes it cannot read.
     *
     * @param member the member's path as given to serve, or its slot number
     */
    void fail(String member, boolean force) throws ControlException;

    /**
     * Rebuilds the data of {@code member} onto {@code replacement} in the background. The
     * replacement is checked first: large enough, not already a member or spare, carrying no other
     * array's superblock. {@code member} may be active (it is failed first) or already faulty.
     * Returns once the rebuild has started.
     */
    void replace(String member, Path replacement) throws ControlException;

    /**
     * Puts a member that dropped out (left out of a start, failed by an error or by hand) back
     * into its own slot, found from its superblock, and rebuilds it there in the background.
     * Refused for a member the array replaced, an active one, or another array's.
     */
    void reAdd(Path member) throws ControlException;

    /** Adds a hot spare, used automatically when a member fails. Checked like a replacement. */
    void addSpare(Path spare) throws ControlException;

    /** Starts a check (or repair) of every stripe in the background; returns once it has started. */
    void scrub(boolean repair) throws ControlException;
}
