package io.parityd.block;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What a {@link FaultyDevice} fails: which kinds of operation, where, how often, and from when.
 * Immutable; {@link FaultyDevice#setMode} swaps one in at run time.
 *
 * @param ops     the kinds of operation that may fail
 * @param from    first byte of the range where operations fail (an operation fails if it overlaps)
 * @param to      end of that range, exclusive; {@code Long.MAX_VALUE} for "to the end"
 * @param rate    probability that a matching operation fails, in {@code (0, 1]}; 1 fails every one
 * @param seed    seed of the {@link java.util.SplittableRandom} that draws against {@code rate}, so
 *                a run can be repeated exactly
 * @param after   how many matching operations succeed before the first may fail (0: at once)
 */
public record FaultMode(Set<Op> ops, long from, long to, double rate, long seed, long after) {

    /** Kinds of operation, as the text form of {@link FaultSpec} names them. */
    public enum Op {
        /** {@link BlockDevice#read}. */
        READ,
        /** {@link BlockDevice#write}. */
        WRITE,
        /** {@link BlockDevice#writeZeroes} and {@link BlockDevice#trim}. */
        ZERO,
        /** {@link BlockDevice#flush}, and the durability step of a FUA write or zeroing. */
        FLUSH
    }

    /** Fails nothing. */
    public static final FaultMode NONE = new FaultMode(EnumSet.noneOf(Op.class), 0, Long.MAX_VALUE, 1, 0, 0);

    public FaultMode {
        ops = Set.copyOf(Objects.requireNonNull(ops, "ops"));
        if (from < 0 || to <= from) {
            throw new IllegalArgumentException("fault range [" + from + ", " + to + ") is empty or negative");
        }
        if (!(rate > 0 && rate <= 1)) {
            throw new IllegalArgumentException("fault rate must be in (0, 1], not " + rate);
        }
        if (after < 0) {
            throw new IllegalArgumentException("fault 'after' must not be negative: " + after);
        }
    }

    /** Every operation of the given kinds fails, from now on, everywhere: a dead disk. */
    public static FaultMode broken(Set<Op> ops) {
        return new FaultMode(ops, 0, Long.MAX_VALUE, 1, 0, 0);
    }

    /** Operations of the given kinds fail with probability {@code rate}, drawn from {@code seed}. */
    public static FaultMode rate(Set<Op> ops, double rate, long seed) {
        return new FaultMode(ops, 0, Long.MAX_VALUE, rate, seed, 0);
    }

    /** Operations of the given kinds that overlap {@code [from, to)} fail: bad sectors. */
    public static FaultMode range(Set<Op> ops, long from, long to) {
        return new FaultMode(ops, from, to, 1, 0, 0);
    }

    /** This mode, drawing its rate from {@code seed}. */
    public FaultMode withSeed(long seed) {
        return new FaultMode(ops, from, to, rate, seed, after);
    }

    /** This mode, but only after {@code n} matching operations have succeeded. */
    public FaultMode after(long n) {
        return new FaultMode(ops, from, to, rate, seed, n);
    }

    boolean covers(Op op, long offset, long length) {
        if (!ops.contains(op)) {
            return false;
        }
        return op == Op.FLUSH || (offset < to && offset + Math.max(length, 1) > from);
    }
}
