package io.parityd.cli;

import io.parityd.raid.ArrayAssembler;
import io.parityd.raid.ArrayException;
import io.parityd.raid.ArrayGeometry;
import io.parityd.raid.AssembledArray;
import io.parityd.raid.ParityScrubber;
import io.parityd.raid.RaidVolume;
import io.parityd.raid.RaidVolumes;
import io.parityd.raid.SlotListener;
import io.parityd.raid.ScrubReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code parityd check}: reads every stripe of a stopped array and compares its parity with the
 * data, like md's {@code check} sync action; {@code --repair} rewrites wrong parity.
 */
@Command(name = "check",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Check the parity of every stripe of an array not served.",
        description = {
            "Check the parity of every stripe of an array that is not being served.",
            "Exit status 0 when every stripe is consistent (or was repaired), 1 when mismatches remain."})
final class CheckCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--repair", description = "Rewrite the parity of stripes where it does not match the data")
    private boolean repair;

    @Parameters(arity = "1..*", paramLabel = "MEMBER", description = "All member files of the array, in any order")
    private List<Path> members;

    @Override
    public Integer call() throws Exception {
        AssembledArray array;
        try {
            array = new ArrayAssembler(Clock.systemUTC()).assemble(members);
        } catch (ArrayException e) {
            throw new CommandFailure(e.getMessage(), e);
        }
        try (array) {
            ArrayGeometry g = array.geometry();
            RaidVolume volume = RaidVolumes.open(g, array.devices(), array.states(), array.rebuildPositions(),
                    SlotListener.NONE);
            volume.stopRebuilds(); // an offline check does not resume a rebuild; serve does
            ScrubReport report;
            try (ProgressBar bar = progressBar(g)) {
                report = new ParityScrubber(volume).scrub(repair, (done, total) -> {
                    if (bar != null) {
                        bar.stepTo(done);
                    }
                });
            }
            if (repair) {
                volume.flush(); // repaired parity must be durable before we say so
            }
            return print(g, report);
        }
    }

    private int print(ArrayGeometry g, ScrubReport report) {
        PrintWriter out = spec.commandLine().getOut();
        out.printf("checked %d stripes of '%s': %d parity mismatches", report.stripesChecked(), g.name(), report.mismatches());
        if (report.mismatches() > 0) {
            out.printf(" (first at stripes %s)", report.firstMismatches());
        }
        if (repair) {
            out.printf(", %d repaired", report.repaired());
        }
        if (report.unchecked() > 0) {
            out.printf(", %d could not be checked (the array is degraded: too few members to compare)", report.unchecked());
        }
        out.println();
        if (!report.clean() && !repair) {
            out.println("run 'parityd check --repair' with the same members to rewrite the wrong parity");
        }
        out.flush();
        return report.mismatches() == report.repaired() ? 0 : Main.FAILED;
    }

    /** A progress bar on a terminal; nothing when output is piped or redirected. */
    private static ProgressBar progressBar(ArrayGeometry g) {
        if (System.console() == null) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName("check " + g.name()).setInitialMax(g.stripes())
                .setUnit(" stripes", 1).setStyle(ProgressBarStyle.ASCII).showSpeed().build();
    }
}
