package io.parityd.cli;

import io.parityd.block.BlockDevice;
import io.parityd.member.Members;
import io.parityd.raid.ArrayGeometry;
import io.parityd.raid.MemberEntry;
import io.parityd.raid.Superblock;
import io.parityd.raid.SuperblockRead;
import io.parityd.raid.SuperblockRecord;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code parityd examine}: prints what each member's superblock says, like {@code mdadm --examine}. */
@Command(name = "examine",
        mixinStandardHelpOptions = true,
        header = "Print each member's superblock: array, slot, shape, state.",
        description = {
            "Print the superblock of each MEMBER: which array it belongs to, its slot, the array's shape and"
                    + " state. Read-only; works on members of a running array too. Exit status 1 if any member has"
                    + " no readable superblock."})
final class ExamineCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "MEMBER", description = "Member files to examine")
    private List<Path> members;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        int status = 0;
        for (Path member : members) {
            out.println(member + ":");
            try (BlockDevice device = Members.open(member, true)) {
                SuperblockRead read = Superblock.read(device);
                if (read.record().isPresent()) {
                    print(out, read.record().get());
                } else {
                    out.println("  no usable superblock: " + read.status() + (read.detail().isEmpty() ? "" : " (" + read.detail() + ")"));
                    status = Main.FAILED;
                }
            } catch (IOException e) {
                out.println("  cannot read: " + e.getMessage());
                status = Main.FAILED;
            }
        }
        out.flush();
        return status;
    }

    private static void print(PrintWriter out, SuperblockRecord r) {
        ArrayGeometry g = r.geometry();
        out.printf("  array:      '%s' %s, RAID-%d, %d members, chunk %s%n", g.name(), g.arrayUuid(), g.level(),
                g.memberCount(), Sizes.format(g.chunkSize()));
        out.printf("  member:     slot %d, uuid %s%n", r.slot(), r.memberUuid());
        out.printf("  data:       from offset %s, %s per member, %s usable%n", Sizes.format(g.dataOffset()),
                Sizes.format(g.memberDataSize()), Sizes.format(g.volumeSize()));
        String state = r.creating() ? "being created (if no create runs now, it was interrupted: run it again)"
                : r.clean() ? "clean" : "dirty (not shut down cleanly, or serving)";
        out.printf("  state:      %s, generation %d, epoch %d%n", state, r.generation(), r.epoch());
        out.printf("  journal:    %s%n", r.journalUuid().map(u -> u + (r.commandJournal() ? ", commands" : ", data")
                        + " (replayed at the next start if dirty)")
                .orElse("none named (clean, or the last run had no journal)"));
        out.printf("  created:    %s, updated %s%n", r.created(), r.updated());
        for (int slot = 0; slot < r.members().size(); slot++) {
            MemberEntry e = r.members().get(slot);
            out.printf("  slot %-3d    %-10s %s%n", slot, e.state().name().toLowerCase(java.util.Locale.ROOT), e.memberUuid());
        }
    }
}
