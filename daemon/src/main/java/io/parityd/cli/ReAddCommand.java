package io.parityd.cli;

import io.parityd.admin.AdminClient;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code parityd re-add}: puts a member that dropped out back into its own slot, and waits for its rebuild. */
@Command(name = "re-add",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Put a member that dropped out back into its slot.",
        description = {
            "Put a member that dropped out of the array back into its own slot (mdadm --re-add): one left out"
                    + " of a start, unreadable for a while, or failed by hand. Its superblock says which slot; a"
                    + " member the array replaced is refused (give it to add-spare instead). While it was away the"
                    + " array marked the regions written; only those are resynced from the other members (all of"
                    + " it when no record covers its absence), while the array serves. Waits, like replace.",
            "Exit status 0 when the rebuild completed, 1 when it stopped."},
        footer = {"", "Example:", "  parityd re-add --name vol0 /srv/parityd/m2.img"})
final class ReAddCommand implements Callable<Integer> {

    @ParentCommand
    private Main main;

    @Spec
    private CommandSpec spec;

    @Mixin
    private AdminTarget target;

    @Option(names = "--no-wait", description = "Return once the rebuild has started; follow it with 'parityd status'")
    private boolean noWait;

    @Parameters(index = "0", paramLabel = "MEMBER", description = "The former member: a file or block device")
    private Path member;

    @Override
    public Integer call() throws Exception {
        AdminSettings settings = main.adminSettings();
        AdminClient client = target.client(settings);
        String path = member.toAbsolutePath().normalize().toString();
        client.reAdd(Path.of(path));
        PrintWriter out = spec.commandLine().getOut();
        if (noWait) {
            out.printf("re-add of %s started; follow it with 'parityd status'%n", path);
            out.flush();
            return 0;
        }
        return ReplaceCommand.awaitRebuild(client, settings, path, out);
    }
}
