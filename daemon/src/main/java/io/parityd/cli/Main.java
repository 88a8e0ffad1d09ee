package io.parityd.cli;

import io.parityd.admin.AdminException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code parityd} command: a parity-RAID volume served over NBD. Subcommands do the work;
 * this class wires them, sets the exit codes and turns expected failures into one clear line.
 *
 * <p>Exit codes: 0 success; 1 the operation was refused or failed (the message says why and
 * what to do); 2 the command line itself was wrong.
 */
@Command(name = "parityd",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "A RAID volume (levels 0, 1, 4, 5, 6) over member files, served over the NBD protocol."
                    + " Attach it with nbd-client or any libnbd tool and put a filesystem on it.",
            ""},
        subcommands = {
            CreateCommand.class,
            ServeCommand.class,
            DemoCommand.class,
            CheckCommand.class,
            ExamineCommand.class,
            ZeroSuperblockCommand.class,
            StatusCommand.class,
            FailCommand.class,
            ReplaceCommand.class,
            ReAddCommand.class,
            AddSpareCommand.class,
            ScrubCommand.class,
            FrontCommand.class,
            ControllerCommand.class,
            AttachCommand.class,
            CommandLine.HelpCommand.class},
        footer = {"", "Run 'parityd COMMAND --help' for a command's options. Documentation: README.md"})
public final class Main implements Runnable {

    /** Exit status when an operation is refused or fails. */
    static final int FAILED = 1;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    private final AdminSettings adminSettings;

    private Main(AdminSettings adminSettings) {
        this.adminSettings = adminSettings;
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit status, for tests and for {@link #main}. */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        return commandLine(AdminSettings.fromEnvironment());
    }

    /** The command line with the given surroundings for the commands that talk to a running daemon (tests). */
    static CommandLine commandLine(AdminSettings adminSettings) {
        CommandLine cli = new CommandLine(new Main(adminSettings));
        cli.setExecutionExceptionHandler(Main::failure);
        // A command's header is its one-line summary in the list of 'parityd --help'. Its own help
        // leaves the header out: the description right below the usage line says it in full.
        for (CommandLine sub : cli.getSubcommands().values()) {
            List<String> sections = new ArrayList<>(sub.getHelpSectionKeys());
            sections.removeAll(List.of(CommandLine.Model.UsageMessageSpec.SECTION_KEY_HEADER_HEADING,
                    CommandLine.Model.UsageMessageSpec.SECTION_KEY_HEADER));
            sub.setHelpSectionKeys(sections);
        }
        return cli;
    }

    @Override
    public void run() {
        // Listed from the registered subcommands, so a new command cannot be left out.
        java.util.List<String> names = new java.util.ArrayList<>(spec.subcommands().keySet());
        names.remove("help");
        String last = names.remove(names.size() - 1);
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing command: " + String.join(", ", names) + " or " + last + " (see parityd --help)");
    }

    /** How the commands that talk to a running daemon find it and show progress. */
    AdminSettings adminSettings() {
        return adminSettings;
    }

    /**
     * An operator-facing failure ({@link CommandFailure}, or an I/O error with a message)
     * becomes one line naming the command; anything else is a bug and keeps its stack trace.
     */
    private static int failure(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        String command = "parityd " + cli.getCommandName();
        if (e instanceof CommandFailure || e instanceof AdminException
                || (e instanceof java.io.IOException && e.getMessage() != null)) {
            err.println(command + ": " + e.getMessage());
        } else {
            err.println(command + ": internal error (please report it): " + e);
            e.printStackTrace(err);
        }
        err.flush();
        return FAILED;
    }

    /** The version recorded in the jar's manifest at build time. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"parityd " + (v == null ? "(development build)" : v)};
        }
    }
}
