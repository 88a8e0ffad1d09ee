package io.parityd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Docs are part of the product: every command and every option appears in the README. */
class ReadmeCoverageTest {

    @Test
    void shouldDocumentEveryCommandAndOption() throws Exception {
        Path readme = Path.of("..", "README.md");
        assertThat(readme).exists();
        String text = Files.readString(readme);
        CommandLine cli = Main.commandLine();
        for (CommandLine sub : cli.getSubcommands().values()) {
            String name = sub.getCommandName();
            if (name.equals("help")) {
                continue;
            }
            assertThat(text).as("README documents 'parityd %s'", name).contains("parityd " + name);
            for (OptionSpec option : sub.getCommandSpec().options()) {
                if (option.usageHelp() || option.versionHelp() || option.hidden()) {
                    continue;
                }
                assertThat(text).as("README documents %s of 'parityd %s'", option.longestName(), name)
                        .contains(option.longestName());
            }
        }
    }
}
