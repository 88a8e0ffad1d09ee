package io.parityd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SizesTest {

    @Test
    void shouldParseBinaryUnits() {
        assertThat(Sizes.parse("4096")).isEqualTo(4096);
        assertThat(Sizes.parse("64K")).isEqualTo(65536);
        assertThat(Sizes.parse("64k")).isEqualTo(65536);
        assertThat(Sizes.parse("64KiB")).isEqualTo(65536);
        assertThat(Sizes.parse("1G")).isEqualTo(1L << 30);
        assertThat(Sizes.parse("2T")).isEqualTo(2L << 40);
        assertThat(Sizes.parse("512B")).isEqualTo(512);
    }

    @Test
    void shouldRefuseWhatIsNotASize() {
        assertThatThrownBy(() -> Sizes.parse("1.5G")).isInstanceOf(CommandLine.TypeConversionException.class)
                .hasMessageContaining("e.g. 4096, 64K, 1G");
        assertThatThrownBy(() -> Sizes.parse("-1")).isInstanceOf(CommandLine.TypeConversionException.class);
        assertThatThrownBy(() -> Sizes.parse("99999999999P")).hasMessageContaining("too large");
    }

    @Test
    void shouldFormatForHumans() {
        assertThat(Sizes.format(512)).isEqualTo("512 B");
        assertThat(Sizes.format(65536)).isEqualTo("64 KiB");
        assertThat(Sizes.format(1L << 30)).isEqualTo("1 GiB");
        assertThat(Sizes.format(4290772992L)).isEqualTo("4.0 GiB");
        assertThat(Sizes.format(1536L << 20)).isEqualTo("1.5 GiB");
    }
}
