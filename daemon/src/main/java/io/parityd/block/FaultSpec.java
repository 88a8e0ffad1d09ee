package io.parityd.block;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which member slot gets a {@link FaultyDevice} and how it fails, in a short text form the daemon
 * takes from a hidden command-line option for fault drills. Grammar (whitespace not allowed):
 *
 * <pre>
 *   specs  := spec ( ';' spec )*
 *   spec   := item ( ',' item )*          -- slot is required, each key at most once
 *   item   := 'slot='  N                  -- member slot, 0-based
 *           | 'ops='   op ( '+' op )*     -- op: read | write | zero | flush | all   (default all)
 *           | 'rate='  R                  -- 0 &lt; R &lt;= 1, chance each matching op fails (default 1)
 *           | 'seed='  N                  -- seed for the rate draws (default 1)
 *           | 'range=' FROM '-' TO        -- member byte offsets, TO exclusive (default: everywhere)
 *           | 'after=' N                  -- matching ops that succeed first (default 0)
 * </pre>
 *
 * <p>Examples: {@code slot=2,ops=read+write,rate=0.01,seed=7} (slot 2 fails about one read or write
 * in a hundred, the same ones every run); {@code slot=1,ops=all,after=0} (slot 1 is dead from the
 * start); {@code slot=0,ops=read,range=1048576-1052672} (one bad 4 KiB block). {@code zero} covers
 * write-zeroes and trim; {@code flush} covers flushes and the durability step of FUA.
 *
 * @param slot the member slot to wrap
 * @param mode how it fails
 */
public record FaultSpec(int slot, FaultMode mode) {

    public FaultSpec {
        if (slot < 0) {
            throw new IllegalArgumentException("fault slot must not be negative: " + slot);
        }
    }

    /** Parses one or more specs separated by {@code ;}. */
    public static List<FaultSpec> parseAll(String text) {
        List<FaultSpec> specs = new ArrayList<>();
        for (String part : text.split(";", -1)) {
            specs.add(parse(part));
        }
        return specs;
    }

    /**
     * Parses one spec.
     *
     * @throws IllegalArgumentException naming the item that is wrong and what was expected
     */
    public static FaultSpec parse(String text) {
        Integer slot = null;
        Set<FaultMode.Op> ops = EnumSet.allOf(FaultMode.Op.class);
        double rate = 1;
        long seed = 1;
        long from = 0;
        long to = Long.MAX_VALUE;
        long after = 0;
        Set<String> seen = new java.util.HashSet<>();
        for (String item : text.split(",", -1)) {
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw bad(text, "'" + item + "' is not key=value");
            }
            String key = item.substring(0, eq);
            String value = item.substring(eq + 1);
            if (!seen.add(key)) {
                throw bad(text, "'" + key + "' given twice");
            }
            switch (key) {
                case "slot" -> slot = (int) number(text, key, value, Integer.MAX_VALUE);
                case "ops" -> ops = ops(text, value);
                case "rate" -> rate = rate(text, value);
                case "seed" -> seed = number(text, key, value, Long.MAX_VALUE);
                case "range" -> {
                    int dash = value.indexOf('-');
                    if (dash <= 0) {
                        throw bad(text, "range '" + value + "' is not FROM-TO");
                    }
                    from = number(text, key, value.substring(0, dash), Long.MAX_VALUE);
                    to = number(text, key, value.substring(dash + 1), Long.MAX_VALUE);
                    if (to <= from) {
                        throw bad(text, "range '" + value + "' is empty");
                    }
                }
                case "after" -> after = number(text, key, value, Long.MAX_VALUE);
                default -> throw bad(text, "unknown key '" + key + "' (slot, ops, rate, seed, range, after)");
            }
        }
        if (slot == null) {
            throw bad(text, "slot=N is required");
        }
        return new FaultSpec(slot, new FaultMode(ops, from, to, rate, seed, after));
    }

    /** A {@link FaultyDevice} over {@code device} that fails as this spec says. */
    public FaultyDevice wrap(BlockDevice device) {
        return new FaultyDevice(device, mode);
    }

    private static Set<FaultMode.Op> ops(String text, String value) {
        Set<FaultMode.Op> ops = EnumSet.noneOf(FaultMode.Op.class);
        for (String name : value.split("\\+", -1)) {
            if (name.equals("all")) {
                ops.addAll(EnumSet.allOf(FaultMode.Op.class));
                continue;
            }
            try {
                ops.add(FaultMode.Op.valueOf(name.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw bad(text, "unknown op '" + name + "' (read, write, zero, flush, all)");
            }
        }
        return ops;
    }

    private static double rate(String text, String value) {
        double rate;
        try {
            rate = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw bad(text, "rate '" + value + "' is not a number");
        }
        if (!(rate > 0 && rate <= 1)) {
            throw bad(text, "rate " + value + " is outside (0, 1]");
        }
        return rate;
    }

    private static long number(String text, String key, String value, long max) {
        try {
            long n = Long.parseLong(value);
            if (n < 0 || n > max) {
                throw bad(text, key + " " + value + " is out of range");
            }
            return n;
        } catch (NumberFormatException e) {
            throw bad(text, key + " '" + value + "' is not a whole number");
        }
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException("bad fault spec '" + text + "': " + why);
    }
}
