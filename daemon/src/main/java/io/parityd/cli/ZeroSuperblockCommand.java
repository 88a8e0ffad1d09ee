package io.parityd.cli;

import io.parityd.block.BlockDevice;
import io.parityd.member.MemberInUseException;
import io.parityd.member.Members;
import io.parityd.raid.Superblock;
import io.parityd.raid.SuperblockRead;
import io.parityd.raid.SuperblockRecord;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code parityd zero-superblock}: erases a member's superblock, like {@code mdadm --zero-superblock}. */
@Command(name = "zero-superblock",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Erase a member's superblock (mdadm --zero-superblock).",
        description = {
            "Erase the parityd superblock (both copies, at the start of each MEMBER), so that the member belongs"
                    + " to no array: 'parityd create' then takes it without --force, and no start counts it as a"
                    + " member. The data behind the superblock is left as it is. A member a running parityd holds"
                    + " is refused: stop that array first. A MEMBER that holds no readable parityd superblock is"
                    + " refused unless --force, so a wrong path changes nothing. Exit status 1 if any MEMBER was"
                    + " refused."},
        footer = {"", "Example:", "  parityd examine /srv/parityd/old.img", "  parityd zero-superblock /srv/parityd/old.img"})
final class ZeroSuperblockCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--force",
            description = "Also zero the superblock area (the first 8 KiB) of a MEMBER that holds no readable superblock")
    private boolean force;

    @Parameters(arity = "1..*", paramLabel = "MEMBER", description = "Member files or block devices")
    private List<Path> members;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int status = 0;
        for (Path member : members) {
            String refusal = erase(member, out);
            if (refusal != null) {
                err.println("parityd zero-superblock: " + refusal);
                status = Main.FAILED;
            }
        }
        out.flush();
        err.flush();
        return status;
    }

    /** Erases {@code member}'s superblock; returns why not, or null once done. */
    private String erase(Path member, PrintWriter out) {
        // Opened for writing, which takes the one-writer lock a serving parityd holds (flock on a
        // file, O_EXCL on a block device): a member in use is refused before anything is read.
        try (BlockDevice device = Members.open(member, false)) {
            SuperblockRead read = Superblock.read(device);
            if (read.record().isEmpty() && !force) {
                return member + " holds no readable parityd superblock (" + read.status()
                        + (read.detail().isEmpty() ? "" : ": " + read.detail()) + "); nothing erased. Check the path"
                        + " with 'parityd examine'; --force zeroes its superblock area anyway";
            }
            Superblock.erase(device);
            device.flush();
            out.println(member + ": " + read.record().map(ZeroSuperblockCommand::describe)
                    .orElse("zeroed the superblock area (it held no readable superblock)"));
            return null;
        } catch (MemberInUseException e) {
            return member + " is " + e.getReason() + "; nothing erased";
        } catch (NoSuchFileException e) {
            return member + " does not exist";
        } catch (IOException e) {
            return "cannot erase the superblock of " + member + ": " + e.getMessage();
        }
    }

    private static String describe(SuperblockRecord r) {
        return "erased the superblock of slot " + r.slot() + " of array '" + r.geometry().name() + "' ("
                + r.geometry().arrayUuid() + ", RAID-" + r.geometry().level() + ", generation " + r.generation()
                + "); it belongs to no array now";
    }
}
