package io.parityd.block;

import io.parityd.block.FaultMode.Op;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FaultSpecTest {

    @Test
    void shouldParseRateSpec() {
        FaultSpec spec = FaultSpec.parse("slot=2,ops=read+write,rate=0.01,seed=7");
        assertThat(spec.slot()).isEqualTo(2);
        assertThat(spec.mode()).isEqualTo(new FaultMode(EnumSet.of(Op.READ, Op.WRITE), 0, Long.MAX_VALUE, 0.01, 7, 0));
    }

    @Test
    void shouldParseDeadDiskAndDefaults() {
        assertThat(FaultSpec.parse("slot=1,ops=all,after=0")).isEqualTo(
                new FaultSpec(1, FaultMode.broken(EnumSet.allOf(Op.class)).withSeed(1)));
        assertThat(FaultSpec.parse("slot=0")).isEqualTo(FaultSpec.parse("slot=0,ops=all,rate=1,seed=1,after=0"));
    }

    @Test
    void shouldParseRangeAfterAndSeveralSpecs() {
        List<FaultSpec> specs = FaultSpec.parseAll("slot=0,ops=read,range=1048576-1052672;slot=3,ops=flush,after=5");
        assertThat(specs).containsExactly(
                new FaultSpec(0, new FaultMode(EnumSet.of(Op.READ), 1048576, 1052672, 1, 1, 0)),
                new FaultSpec(3, new FaultMode(EnumSet.of(Op.FLUSH), 0, Long.MAX_VALUE, 1, 1, 5)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "ops=read                 | slot=N is required",
            "slot=x                   | slot 'x' is not a whole number",
            "slot=-1                  | slot -1 is out of range",
            "slot=1,ops=read+bogus    | unknown op 'bogus'",
            "slot=1,rate=0            | rate 0 is outside (0, 1]",
            "slot=1,rate=often        | rate 'often' is not a number",
            "slot=1,range=10-5        | range '10-5' is empty",
            "slot=1,range=10          | range '10' is not FROM-TO",
            "slot=1,slot=2            | 'slot' given twice",
            "slot=1,colour=red        | unknown key 'colour'",
            "slot=1,                  | '' is not key=value"})
    void shouldRefuseBadSpecsNamingTheProblem(String text, String why) {
        assertThatThrownBy(() -> FaultSpec.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad fault spec '" + text + "'")
                .hasMessageContaining(why);
    }
}
