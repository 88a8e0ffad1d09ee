package io.parityd.front;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.netty.channel.embedded.EmbeddedChannel;
import io.parityd.LeakCheck;
import io.parityd.protocol.CommandType;
import io.parityd.protocol.ConnectionLogs;
import io.parityd.protocol.ErrorReply;
import io.parityd.protocol.NbdError;
import io.parityd.protocol.NbdRequest;
import io.parityd.protocol.PayloadMemory;
import io.parityd.protocol.Session;
import io.parityd.protocol.TransmissionFlag;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the transmission phase makes the daemon log when clients misbehave or come and go in
 * numbers (issue 14): refusals and detaches are throttled across connections, and every refusal
 * is still counted for the metrics.
 */
@ExtendWith(LeakCheck.class)
class TransmissionLogTest {

    private static final long SIZE = 1L << 30;

    private final ManualController controller = new ManualController(SIZE);
    private final AtomicLong now = new AtomicLong();
    private final ConnectionLogs logs = ConnectionLogs.create(now::get);
    private final AtomicLong refused = new AtomicLong();
    private final RequestObserver observer = new RequestObserver() {
        @Override
        public void refused(CommandType command, NbdError error) {
            refused.incrementAndGet();
        }
    };

    private EmbeddedChannel open() {
        VolumeExport export = new VolumeExport("vol", "test volume", SIZE);
        int flags = TransmissionFlag.HAS_FLAGS.bit();
        for (TransmissionFlag f : export.info().flags()) {
            flags |= f.bit();
        }
        return new EmbeddedChannel(new TransmissionHandler(new Session(export.info(), false, flags, true), controller,
                FrontLimits.DEFAULT, observer, PayloadMemory.UNLIMITED, logs));
    }

    @Test
    void shouldLogAFewOf10000RefusalsSayHowManyWereLeftOutAndCountThemAll() {
        try (LogCapture log = new LogCapture("io.parityd", Level.INFO)) {
            EmbeddedChannel channel = open();
            for (long cookie = 0; cookie < 10_000; cookie++) {
                channel.writeInbound(new NbdRequest(CommandType.READ.code(), 0, cookie, SIZE, 4096));
                ErrorReply reply = channel.readOutbound();
                assertThat(reply.error()).isEqualTo(NbdError.EINVAL);
            }
            assertThat(refused).as("refusals counted for parityd_nbd_request_errors_total").hasValue(10_000);
            assertThat(log.messagesWith("refused")).hasSize(10);
            now.addAndGet(TimeUnit.SECONDS.toNanos(10));
            logs.flush();
            assertThat(log.messagesWith("suppressed")).containsExactly(
                    "... and 9,990 more refusals suppressed in the last 10 s");
            assertThat(controller.calls).isEmpty();
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void shouldThrottleDetachLinesAcrossConnections() {
        try (LogCapture log = new LogCapture("io.parityd", Level.INFO)) {
            for (int i = 0; i < 100; i++) {
                EmbeddedChannel channel = open();
                channel.close();
                channel.finishAndReleaseAll();
            }
            assertThat(log.messagesWith("detached from export 'vol'")).hasSize(30);
            now.addAndGet(TimeUnit.SECONDS.toNanos(10));
            logs.flush();
            assertThat(log.messagesWith("suppressed")).containsExactly(
                    "... and 70 more attach and detach lines suppressed in the last 10 s");
        }
    }
}
