package io.parityd.raid;

/**
 * Creating or assembling an array was refused, or failed. The message is for an operator at a
 * terminal: what is wrong, naming the member path or array, then what to do about it, e.g.
 * {@code RAID-5 needs at least 3 members, got 2: a.img, b.img; list at least three member files}.
 * {@link #problem()} and {@link #fix()} give the two halves separately for a CLI that lays them
 * out itself.
 *
 * <p>A refusal found while validating changes nothing on any member; a failure while executing
 * says in its fix what may have changed.
 */
public final class ArrayException extends Exception {

    private final String problem;
    private final String fix;

    public ArrayException(String problem, String fix) {
        this(problem, fix, null);
    }

    public ArrayException(String problem, String fix, Throwable cause) {
        super(problem + "; " + fix, cause);
        this.problem = problem;
        this.fix = fix;
    }

    /** What is wrong, naming the member or array. */
    public String problem() {
        return problem;
    }

    /** What the operator can do about it. */
    public String fix() {
        return fix;
    }
}
