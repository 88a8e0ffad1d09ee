package io.parityd.cli;

import io.parityd.admin.AdminClient;
import io.parityd.admin.ArrayStatus;
import io.parityd.admin.ArrayStatus.ScrubResult;
import java.io.PrintWriter;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code parityd scrub}: checks (or repairs) the parity of a running array in the background, like
 * md's {@code check} and {@code repair} sync actions; {@code parityd check} does the same offline.
 */
@Command(name = "scrub",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Check every stripe's parity of a running array as it serves.",
        description = {
            "Check the parity of every stripe of a running array while it serves (md's 'check'); --repair"
                    + " rewrites parity that does not match the data (md's 'repair'). Waits for the end, with a"
                    + " progress bar on a terminal, then prints the mismatch count.",
            "Exit status 0 when every stripe is consistent (or was repaired), 1 when mismatches remain, as for"
                    + " 'parityd check'."},
        footer = {"", "Example:", "  parityd scrub --name vol0 && echo parity is consistent"})
final class ScrubCommand implements Callable<Integer> {

    @ParentCommand
    private Main main;

    @Spec
    private CommandSpec spec;

    @Mixin
    private AdminTarget target;

    @Option(names = "--repair", description = "Rewrite the parity of stripes where it does not match the data")
    private boolean repair;

    @Option(names = "--no-wait", description = "Return once the scrub has started; follow it with 'parityd status'")
    private boolean noWait;

    @Override
    public Integer call() throws Exception {
        AdminSettings settings = main.adminSettings();
        AdminClient client = target.client(settings);
        ArrayStatus before = client.status();
        String kind = repair ? "repair" : "check";
        client.scrub(repair);
        PrintWriter out = spec.commandLine().getOut();
        if (noWait) {
            out.printf("%s of '%s' started; follow it with 'parityd status'%n", kind, before.name());
            out.flush();
            return 0;
        }
        ScrubResult result = new TaskWait(client, settings, kind).until(
                status -> status.tasks().stream().filter(t -> t.kind().equals(kind)).findFirst(),
                status -> ended(status, before.lastScrub(), kind));
        return print(result, before.name(), out);
    }

    /** The scrub is no longer running; its outcome is the status's last scrub, if that is a new one. */
    private static ScrubResult ended(ArrayStatus status, ScrubResult previous, String kind) throws CommandFailure {
        ScrubResult last = status.lastScrub();
        if (last == null || Objects.equals(last, previous)) {
            throw new CommandFailure("the " + kind + " of '" + status.name() + "' is not running any more and the daemon "
                    + "reports no result for it; see 'parityd status' and the daemon log");
        }
        if (!last.complete()) {
            throw new CommandFailure("the " + last.kind() + " of '" + status.name() + "' stopped after " + last.done() + " of "
                    + last.total() + " stripes, with " + StatusReport.mismatches(last.mismatches())
                    + " found; see 'parityd status' and the daemon log");
        }
        return last;
    }

    private int print(ScrubResult r, String name, PrintWriter out) {
        out.printf("checked %d stripes of '%s': %s", r.total(), name, StatusReport.mismatches(r.mismatches()));
        if (r.kind().equals("repair")) {
            out.printf(", %d repaired", r.repaired());
        }
        out.println();
        if (r.mismatches() > r.repaired() && !r.kind().equals("repair")) {
            out.println("run 'parityd scrub --repair' to rewrite the wrong parity");
        }
        out.flush();
        return r.mismatches() == r.repaired() ? 0 : Main.FAILED;
    }
}
