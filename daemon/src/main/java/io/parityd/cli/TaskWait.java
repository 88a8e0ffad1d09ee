package io.parityd.cli;

import io.parityd.admin.AdminClient;
import io.parityd.admin.AdminException;
import io.parityd.admin.ArrayStatus;
import io.parityd.admin.ArrayStatus.TaskStatus;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Waits for a background task of the daemon (a rebuild, a scrub) by polling {@code status}, with
 * a progress bar on a terminal showing the daemon's own rate and ETA; nothing while it runs when
 * output is piped. Leaving (Ctrl-C) stops the waiting, not the task.
 */
final class TaskWait {

    /** What the status says once the task is gone: the command's result, or a failure. */
    interface Outcome<R> {
        R of(ArrayStatus status) throws CommandFailure;
    }

    private final AdminClient client;
    private final AdminSettings settings;
    /** Short: the bar shares the terminal's width with the count, rate and ETA. */
    private final String barName;

    TaskWait(AdminClient client, AdminSettings settings, String barName) {
        this.client = client;
        this.settings = settings;
        this.barName = barName;
    }

    /**
     * Polls until {@code running} finds no task in the status, then returns {@code outcome} of
     * that status.
     */
    <R> R until(Function<ArrayStatus, Optional<TaskStatus>> running, Outcome<R> outcome)
            throws AdminException, CommandFailure, InterruptedException {
        Bar bar = new Bar();
        try {
            while (true) {
                ArrayStatus status = client.status();
                Optional<TaskStatus> task = running.apply(status);
                if (task.isEmpty()) {
                    bar.close(); // the bar's last line before the result
                    return outcome.of(status);
                }
                bar.show(task.get());
                Thread.sleep(settings.pollInterval().toMillis());
            }
        } finally {
            bar.close();
        }
    }

    /** The progress bar, created at the first report, on the settings' terminal stream only. */
    private final class Bar {
        private ProgressBar bar;
        private volatile Optional<Duration> eta = Optional.empty();

        void show(TaskStatus t) {
            if (settings.progressBars() == null) {
                return;
            }
            if (bar == null) {
                bar = new ProgressBarBuilder().setTaskName(barName).setInitialMax(t.total()).setUnit(" stripes", 1)
                        .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(settings.progressBars()))
                        .setEtaFunction(state -> eta).build();
            }
            eta = t.etaSeconds() < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(t.etaSeconds()));
            bar.maxHint(t.total());
            bar.stepTo(t.done());
            bar.setExtraMessage(StatusReport.rate(t.bytesPerSecond()));
        }

        void close() {
            if (bar != null) {
                bar.close();
                bar = null;
            }
        }
    }
}
