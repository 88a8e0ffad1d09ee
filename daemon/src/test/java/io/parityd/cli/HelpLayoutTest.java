package io.parityd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The help as an operator reads it at 80 columns: the command list gives each command's whole
 * one-line header, each command's help starts with its usage line, and footer lines (examples,
 * the JSON field list) come out as written, not re-wrapped.
 */
class HelpLayoutTest {

    private static final int WIDTH = 80;

    private static String help(String... args) {
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setUsageHelpAutoWidth(false);
        cli.setUsageHelpWidth(WIDTH);
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute(args)).as(String.join(" ", args)).isZero();
        return out.toString();
    }

    private static List<CommandLine> commands() {
        return Main.commandLine().getSubcommands().values().stream()
                .filter(sub -> !sub.getCommandName().equals("help"))
                .toList();
    }

    @Test
    void shouldListEveryCommandWithItsWholeHeaderOnOneLine() {
        List<String> lines = help("--help").lines().toList();
        for (CommandLine sub : commands()) {
            String[] header = sub.getCommandSpec().usageMessage().header();
            assertThat(header).as("header of %s", sub.getCommandName()).hasSize(1);
            assertThat(lines).as("command list").anySatisfy(line -> assertThat(line)
                    .matches("  " + sub.getCommandName() + " +" + Pattern.quote(header[0])));
        }
    }

    @Test
    void shouldStartEachCommandsHelpWithItsUsageLineAndKeepFooterLinesWhole() {
        for (CommandLine sub : commands()) {
            String name = sub.getCommandName();
            String text = help(name, "--help");
            assertThat(text).as(name).startsWith("Usage: parityd " + name + " ");
            List<String> lines = text.lines().toList();
            assertThat(lines).as(name).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(WIDTH));
            for (String footer : sub.getCommandSpec().usageMessage().footer()) {
                assertThat(lines).as("footer line of %s", name).contains(footer);
            }
        }
    }
}
