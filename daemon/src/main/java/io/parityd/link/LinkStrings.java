package io.parityd.link;

import io.netty.buffer.ByteBufUtil;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** String fields as {@link LinkFormat} defines them: UTF-8, at most {@link LinkFormat#MAX_STRING} bytes. */
final class LinkStrings {

    private LinkStrings() {
    }

    /** {@code value}, if it fits a string field. */
    static String check(String field, String value) {
        if (value == null) {
            throw new IllegalArgumentException(field + " is null (use \"\" for none)");
        }
        // Three bytes per char at most: short strings need no count.
        if (value.length() * 3 > LinkFormat.MAX_STRING) {
            int bytes = ByteBufUtil.utf8Bytes(value);
            if (bytes > LinkFormat.MAX_STRING) {
                throw new IllegalArgumentException(field + " is " + bytes + " bytes in UTF-8, over the limit of "
                        + LinkFormat.MAX_STRING);
            }
        }
        return value;
    }

    /**
     * {@code text} cut to fit a string field, on a character boundary (a cut inside a multi-byte
     * sequence would send invalid UTF-8). For messages we compose from what a peer sent us.
     */
    static String bounded(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= LinkFormat.MAX_STRING) {
            return text;
        }
        int end = LinkFormat.MAX_STRING;
        while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
            end--;
        }
        return new String(Arrays.copyOf(utf8, end), StandardCharsets.UTF_8);
    }
}
