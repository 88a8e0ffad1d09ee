package io.parityd.cli;

import io.parityd.admin.AdminClient;
import io.parityd.admin.ArrayStatus;
import io.parityd.admin.ArrayStatus.MemberStatus;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code parityd replace}: rebuilds a member's data onto a new device while the array serves, and waits for it. */
@Command(name = "replace",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Rebuild a member onto a new device while the array serves.",
        description = {
            "Rebuild a member's data onto a new device while the array keeps serving (mdadm --replace). MEMBER"
                    + " may be active (it is failed first) or already faulty; NEW must be large enough and belong to"
                    + " no array. Waits for the rebuild, with a progress bar, rate and ETA on a terminal; Ctrl-C stops"
                    + " the waiting, not the rebuild.",
            "Exit status 0 when the rebuild completed, 1 when it stopped."},
        footer = {"", "Example:", "  parityd replace --name vol0 1 /srv/parityd/m1-new.img"})
final class ReplaceCommand implements Callable<Integer> {

    @ParentCommand
    private Main main;

    @Spec
    private CommandSpec spec;

    @Mixin
    private AdminTarget target;

    @Option(names = "--no-wait", description = "Return once the rebuild has started; follow it with 'parityd status'")
    private boolean noWait;

    @Parameters(index = "0", paramLabel = "MEMBER", description = "The member to replace: its path, or its slot number")
    private String member;

    @Parameters(index = "1", paramLabel = "NEW", description = "The new member: a file or block device")
    private Path replacement;

    @Override
    public Integer call() throws Exception {
        AdminSettings settings = main.adminSettings();
        AdminClient client = target.client(settings);
        String which = FailCommand.memberArgument(member);
        String onto = replacement.toAbsolutePath().normalize().toString();
        client.replace(which, Path.of(onto));
        PrintWriter out = spec.commandLine().getOut();
        if (noWait) {
            out.printf("rebuild of %s onto %s started; follow it with 'parityd status'%n", which, onto);
            out.flush();
            return 0;
        }
        return awaitRebuild(client, settings, onto, out);
    }

    /** Waits for the rebuild onto {@code onto} (replace's, or re-add's) and says how it ended. */
    static int awaitRebuild(AdminClient client, AdminSettings settings, String onto, PrintWriter out) throws Exception {
        return new TaskWait(client, settings, "rebuild").until(
                status -> status.tasks().stream().filter(t -> t.kind().equals("rebuild") && onto.equals(t.target())).findFirst(),
                status -> finished(status, onto, out));
    }

    /** The rebuild is no longer running: it completed if its slot is active on the new device. */
    private static int finished(ArrayStatus status, String onto, PrintWriter out) throws CommandFailure {
        Optional<MemberStatus> slot = status.members().stream().filter(m -> onto.equals(m.path())).findFirst();
        if (slot.isEmpty()) {
            throw new CommandFailure("the rebuild onto " + onto + " is no longer running and " + onto + " is not a member of '"
                    + status.name() + "'; see 'parityd status' and the daemon log");
        }
        MemberStatus m = slot.get();
        if (!m.state().equals("active")) {
            throw new CommandFailure("the rebuild onto " + onto + " stopped: slot " + m.slot() + " is " + m.state()
                    + (m.reason() == null ? "" : " (" + m.reason() + ")") + " and the array is " + status.state()
                    + "; replace it with another device: parityd replace " + m.slot() + " NEW-MEMBER");
        }
        out.printf("rebuilt slot %d of '%s' onto %s; the array is %s%n", m.slot(), status.name(), onto, status.state());
        out.flush();
        return 0;
    }
}
