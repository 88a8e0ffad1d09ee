package io.parityd.raid;

import java.util.Locale;

/** Byte counts as an operator reads them in a message: binary units, then the exact count. */
final class ByteSize {

    private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

    private ByteSize() {
    }

    /** E.g. {@code 1.5 MiB (1572864 bytes)}, or {@code 512 bytes} below 1 KiB. */
    static String describe(long bytes) {
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < UNITS.length - 1) {
            value /= 1024;
            unit++;
        }
        String amount = value == Math.rint(value) ? String.valueOf((long) value) : String.format(Locale.ROOT, "%.1f", value);
        return amount + " " + UNITS[unit] + " (" + bytes + " bytes)";
    }
}
