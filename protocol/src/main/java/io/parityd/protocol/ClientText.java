package io.parityd.protocol;

/**
 * Text a client chose (an export name, a name in {@code NBD_OPT_INFO}/{@code NBD_OPT_GO}, any
 * option data shown as text), made safe to put in a log line: quoted, escaped and cut short.
 * Whatever the client sends, the result is one line of printable characters that cannot pass for
 * the log's own punctuation: a name holding {@code "\n2026-12-07 06:00:00.000 ERROR [main] ..."}
 * shows as {@code 'x\n2026-12-07 ...'} on the line that named it, never as a line of its own.
 *
 * <p>Escapes: backslash and both quote characters get a backslash; newline, carriage return and
 * tab their C escapes; any other C0/C1 control or DEL {@code \xNN}; other characters that print
 * nothing or move the cursor (Unicode format characters such as the right-to-left override, line
 * and paragraph separators, private use, unassigned code points, lone surrogates) <code>&#92;u{XXXX}</code>.
 * Every log line that shows client text goes through here; the client still gets its own bytes
 * back on the wire where the protocol echoes them.
 */
public final class ClientText {

    /** Characters of the client's text shown at most; a longer text ends in an ellipsis and its length. */
    public static final int MAX_SHOWN = 200;

    private ClientText() {
    }

    /** {@code text} in single quotes, escaped, at most {@link #MAX_SHOWN} of its characters; null reads "(none)". */
    public static String quote(CharSequence text) {
        if (text == null) {
            return "(none)";
        }
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_SHOWN) + 8).append('\'');
        int shown = 0;
        int i = 0;
        while (i < text.length() && shown < MAX_SHOWN) {
            int c = Character.codePointAt(text, i);
            escape(c, out);
            i += Character.charCount(c);
            shown++;
        }
        out.append('\'');
        if (i < text.length()) {
            out.append("... (").append(text.codePoints().count()).append(" characters in all)");
        }
        return out.toString();
    }

    private static void escape(int c, StringBuilder out) {
        switch (c) {
            case '\\' -> out.append("\\\\");
            case '\'' -> out.append("\\'");
            case '"' -> out.append("\\\"");
            case '\n' -> out.append("\\n");
            case '\r' -> out.append("\\r");
            case '\t' -> out.append("\\t");
            default -> {
                if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                    out.append(String.format("\\x%02x", c));
                } else if (!printable(c)) {
                    out.append(String.format("\\u{%04x}", c));
                } else {
                    out.appendCodePoint(c);
                }
            }
        }
    }

    /** Whether {@code c} shows as itself: not a format, separator, private-use, unassigned or surrogate code point. */
    private static boolean printable(int c) {
        return switch (Character.getType(c)) {
            case Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.PRIVATE_USE,
                 Character.UNASSIGNED, Character.SURROGATE, Character.CONTROL -> false;
            default -> true;
        };
    }
}
