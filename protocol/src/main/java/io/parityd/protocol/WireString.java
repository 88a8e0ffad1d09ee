package io.parityd.protocol;

import java.nio.charset.StandardCharsets;

/**
 * Strings as proto.md "Conventions" defines them: UTF-8, no NUL, at most
 * {@value Nbd#MAX_STRING_LENGTH} bytes. Used for the messages a server composes (error text),
 * which may be longer than the wire allows.
 */
final class WireString {

    private WireString() {
    }

    /**
     * The UTF-8 bytes of {@code text}, cut to at most {@code limit} bytes on a character boundary
     * (a cut inside a multi-byte sequence would hand the client invalid UTF-8). NUL characters
     * become '?', since the spec forbids them in strings. Null reads as empty.
     */
    static byte[] bounded(String text, int limit) {
        if (text == null || text.isEmpty()) {
            return new byte[0];
        }
        byte[] utf8 = text.replace('\0', '?').getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= limit) {
            return utf8;
        }
        int end = limit;
        while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
            end--;
        }
        return java.util.Arrays.copyOf(utf8, end);
    }

    static byte[] bounded(String text) {
        return bounded(text, Nbd.MAX_STRING_LENGTH);
    }
}
