package io.parityd.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClientTextTest {

    @Test
    void shouldQuotePlainTextAsIs() {
        assertThat(ClientText.quote("vol0")).isEqualTo("'vol0'");
        assertThat(ClientText.quote("")).isEqualTo("''");
        assertThat(ClientText.quote("données-été 数据")).isEqualTo("'données-été 数据'");
    }

    @Test
    void shouldSayNoneForNull() {
        assertThat(ClientText.quote(null)).isEqualTo("(none)");
    }

    @Test
    void shouldEscapeLineBreaksAndControlCharacters() {
        assertThat(ClientText.quote("a\nb\rc\td")).isEqualTo("'a\\nb\\rc\\td'");
        assertThat(ClientText.quote("\u0000\u001b[31m\u0007\u007f\u0085")).isEqualTo("'\\x00\\x1b[31m\\x07\\x7f\\x85'");
    }

    @Test
    void shouldEscapeQuotesAndBackslashSoTheQuotingCannotBeClosedEarly() {
        assertThat(ClientText.quote("it's \"x\" \\n")).isEqualTo("'it\\'s \\\"x\\\" \\\\n'");
    }

    @Test
    void shouldEscapeCharactersThatPrintNothingOrReorderTheLine() {
        // right-to-left override, zero-width space, line separator, paragraph separator, private use
        assertThat(ClientText.quote("a\u202eb\u200bc\u2028d\u2029e\ue000")).isEqualTo(
                "'a\\u{202e}b\\u{200b}c\\u{2028}d\\u{2029}e\\u{e000}'");
        assertThat(ClientText.quote("lone \ud800 surrogate")).isEqualTo("'lone \\u{d800} surrogate'");
    }

    @Test
    void shouldCutLongTextAndSayHowLongItWas() {
        String quoted = ClientText.quote("n".repeat(4096));
        assertThat(quoted).isEqualTo("'" + "n".repeat(ClientText.MAX_SHOWN) + "'... (4096 characters in all)");
        assertThat(ClientText.quote("n".repeat(ClientText.MAX_SHOWN))).isEqualTo("'" + "n".repeat(ClientText.MAX_SHOWN) + "'");
    }

    @Test
    void shouldNeverProduceALineBreakOrControlCharacterWhateverTheInput() {
        StringBuilder every = new StringBuilder();
        for (int c = 0; c < 0x3000; c++) {
            every.appendCodePoint(c);
        }
        for (int at = 0; at < every.length(); at += ClientText.MAX_SHOWN) {
            String quoted = ClientText.quote(every.substring(at, Math.min(every.length(), at + ClientText.MAX_SHOWN)));
            assertThat(quoted).matches("[^\\p{Cntrl}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Co}\\p{Cn}\\p{Cs}]*");
        }
    }
}
