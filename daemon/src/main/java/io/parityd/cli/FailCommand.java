package io.parityd.cli;

import io.parityd.admin.AdminClient;
import io.parityd.admin.ArrayStatus;
import io.parityd.admin.ArrayStatus.MemberStatus;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code parityd fail}: marks a member of a running array faulty, as an I/O error would (mdadm --fail). */
@Command(name = "fail",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Mark a member of a running array faulty (mdadm --fail).",
        description = {
            "Mark a member of a running array faulty, as an I/O error would (mdadm --fail): the array runs"
                    + " degraded without it, and a hot spare, if there is one, takes its place. For drills, or to"
                    + " take out a disk that misbehaves. Then give the slot a new device with 'parityd replace'.",
            "",
            "A member the array cannot lose (RAID-5 with a member lost already, RAID-6 with two, RAID-0 at all,"
                    + " a member whose loss would stop a rebuild) is refused, and nothing changes: the array would"
                    + " fail, answering an I/O error for every stripe that needs it. --force fails it anyway."},
        footer = {"", "Example:", "  parityd fail --name vol0 /srv/parityd/m1.img", "  parityd fail 1"})
final class FailCommand implements Callable<Integer> {

    private static final Pattern SLOT = Pattern.compile("\\d+");

    @ParentCommand
    private Main main;

    @Spec
    private CommandSpec spec;

    @Mixin
    private AdminTarget target;

    @Parameters(paramLabel = "MEMBER", description = "The member's path, or its slot number as 'parityd status' lists it")
    private String member;

    @Option(names = "--force",
            description = "Fail it even if the array cannot lose it: the array then fails, and every read or write"
                    + " of a stripe that needs it gets an I/O error")
    private boolean force;

    @Override
    public Integer call() throws Exception {
        AdminClient client = target.client(main.adminSettings());
        String which = memberArgument(member);
        client.fail(which, force);
        ArrayStatus after = client.status();
        PrintWriter out = spec.commandLine().getOut();
        String slot = find(after, which).map(m -> "slot " + m.slot() + " (" + m.path() + ")").orElse(which);
        out.printf("%s of '%s' is now faulty; the array is %s%n", slot, after.name(), after.state());
        after.tasks().stream().filter(t -> t.kind().equals("rebuild")).findFirst().ifPresentOrElse(
                t -> out.printf("a spare takes its place: %s; follow it with 'parityd status'%n", StatusReport.task(t)),
                () -> out.printf("give it a new device with: parityd replace %s NEW-MEMBER%n",
                        find(after, which).map(m -> String.valueOf(m.slot())).orElse(which)));
        out.flush();
        return 0;
    }

    /**
     * A slot number as it is; a path made absolute, since the daemon's working directory is not
     * ours (a file named like a number: write {@code ./3}).
     */
    static String memberArgument(String member) {
        return SLOT.matcher(member).matches() ? member : Path.of(member).toAbsolutePath().normalize().toString();
    }

    static Optional<MemberStatus> find(ArrayStatus status, String member) {
        return status.members().stream()
                .filter(m -> member.equals(String.valueOf(m.slot())) || member.equals(m.path()))
                .findFirst();
    }
}
