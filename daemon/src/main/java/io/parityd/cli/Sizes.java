package io.parityd.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Sizes as operators write them: {@code 4096}, {@code 64K}, {@code 64KiB}, {@code 1G},
 * {@code 2T}. Units are binary (K = 1024), as in mdadm and most storage tools.
 */
final class Sizes implements CommandLine.ITypeConverter<Long> {

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGTP]?)(?:I?B)?");

    @Override
    public Long convert(String value) {
        return parse(value);
    }

    static long parse(String value) {
        Matcher m = SIZE.matcher(value.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException(
                    "'" + value + "' is not a size; write a number of bytes with an optional unit, e.g. 4096, 64K, 1G");
        }
        int shift = switch (m.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            case "P" -> 50;
            default -> 0;
        };
        long n = Long.parseLong(m.group(1));
        if (shift > 0 && n > (Long.MAX_VALUE >> shift)) {
            throw new CommandLine.TypeConversionException("'" + value + "' is too large");
        }
        return n << shift;
    }

    /** {@code 4.0 GiB}, {@code 64 KiB}, {@code 512 B}: one decimal above KiB, whole numbers at or below. */
    static String format(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int unit = 0;
        double v = bytes;
        while (v >= 1024 && unit < units.length - 1) {
            v /= 1024;
            unit++;
        }
        if (unit <= 1 || v == Math.floor(v)) {
            return String.format(Locale.ROOT, "%.0f %s", v, units[unit]);
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[unit]);
    }
}
