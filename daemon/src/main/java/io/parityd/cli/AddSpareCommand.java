package io.parityd.cli;

import io.parityd.admin.AdminClient;
import io.parityd.admin.ArrayStatus;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code parityd add-spare}: gives a running array a hot spare (mdadm --add to a healthy array). */
@Command(name = "add-spare",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Add a hot spare to a running array.",
        description = {
            "Add a hot spare to a running array: when a member fails, the array rebuilds onto it at once. Added"
                    + " to a degraded array, it is used right away. PATH must be large enough and belong to no array."},
        footer = {"", "Example:", "  parityd add-spare --name vol0 /srv/parityd/spare0.img"})
final class AddSpareCommand implements Callable<Integer> {

    @ParentCommand
    private Main main;

    @Spec
    private CommandSpec spec;

    @Mixin
    private AdminTarget target;

    @Parameters(paramLabel = "PATH", description = "The spare: a file or block device")
    private Path spare;

    @Override
    public Integer call() throws Exception {
        AdminClient client = target.client(main.adminSettings());
        String path = spare.toAbsolutePath().normalize().toString();
        client.addSpare(Path.of(path));
        ArrayStatus after = client.status();
        PrintWriter out = spec.commandLine().getOut();
        after.tasks().stream().filter(t -> t.kind().equals("rebuild") && path.equals(t.target())).findFirst().ifPresentOrElse(
                t -> out.printf("added %s to '%s'; the array was degraded, so it is used at once: %s%n", path, after.name(),
                        StatusReport.task(t)),
                () -> out.printf("added %s as a hot spare of '%s' (%d %s)%n", path, after.name(), after.spares().size(),
                        after.spares().size() == 1 ? "spare" : "spares"));
        out.flush();
        return 0;
    }
}
