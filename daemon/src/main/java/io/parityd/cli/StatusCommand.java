package io.parityd.cli;

import io.parityd.admin.ArrayStatus;
import io.parityd.admin.StatusJson;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code parityd status}: a running array's state, members, spares and background work, from its admin socket. */
@Command(name = "status",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Show a running array, like mdadm --detail.",
        description = {
            "Show a running array, like mdadm --detail: name, UUID, level, size, state, export, chunk, every"
                    + " slot with its path and state (and why it is faulty), spares, each running rebuild, resync or"
                    + " scrub with its progress, rate and ETA, and the last scrub's outcome. Asks the daemon over its"
                    + " admin socket; changes nothing."},
        footer = {"", "JSON fields (--json): name, uuid, level, chunk, size, state, export,",
            "  members[]{slot, path, state, reason}, spares[],",
            "  tasks[]{kind, target, done, total, bytesPerSecond, etaSeconds, mismatches},",
            "  lastScrub{kind, done, total, mismatches, repaired, finished} or null."})
final class StatusCommand implements Callable<Integer> {

    @ParentCommand
    private Main main;

    @Spec
    private CommandSpec spec;

    @Mixin
    private AdminTarget target;

    @Option(names = "--json", description = "Print the status as JSON, with the stable field names listed below")
    private boolean json;

    @Override
    public Integer call() throws Exception {
        ArrayStatus status = target.client(main.adminSettings()).status();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(StatusJson.toJson(status).toPrettyString());
            out.flush();
        } else {
            StatusReport.print(status, out);
        }
        return 0;
    }
}
