package io.parityd.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class LogThrottleTest {

    private final AtomicLong now = new AtomicLong(1_000);

    private LogThrottle throttle(int burst) {
        return new LogThrottle(LoggerFactory.getLogger(LogThrottleTest.class), org.slf4j.event.Level.INFO,
                "refused requests", burst, Duration.ofSeconds(10), now::get);
    }

    private void advance(long seconds) {
        now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
    }

    @Test
    void shouldLogTheBurstThenCountAndReportTheRestWithTheNextWindow() {
        try (CapturedLog log = CapturedLog.of(LogThrottleTest.class, Level.INFO)) {
            LogThrottle throttle = throttle(3);
            for (int i = 0; i < 10_000; i++) {
                throttle.log("refused request {}", i);
            }
            assertThat(log.lines()).hasSize(3);
            assertThat(throttle.suppressed()).isEqualTo(9_997);
            advance(10);
            throttle.log("refused request {}", "late");
            assertThat(log.lines()).hasSize(5);
            assertThat(log.lines().get(3)).endsWith("... and 9,997 more refused requests suppressed in the last 10 s");
            assertThat(log.lines().get(4)).endsWith("refused request late");
        }
    }

    @Test
    void shouldReportOnFlushOnceTheWindowIsOver() {
        try (CapturedLog log = CapturedLog.of(LogThrottleTest.class, Level.INFO)) {
            LogThrottle throttle = throttle(1);
            throttle.log("one");
            throttle.log("two");
            throttle.log("three");
            throttle.flush();
            assertThat(log.lines()).as("window not over yet").hasSize(1);
            advance(12);
            throttle.flush();
            throttle.flush();
            assertThat(log.linesWith("suppressed")).singleElement().asString()
                    .endsWith("... and 2 more refused requests suppressed in the last 12 s");
            assertThat(throttle.suppressed()).isZero();
        }
    }

    @Test
    void shouldSayNothingWhenNothingWasSuppressed() {
        try (CapturedLog log = CapturedLog.of(LogThrottleTest.class, Level.INFO)) {
            LogThrottle throttle = throttle(5);
            throttle.log("a");
            advance(60);
            throttle.flush();
            throttle.log("b");
            assertThat(log.lines()).hasSize(2).noneMatch(l -> l.contains("suppressed"));
        }
    }

    @Test
    void shouldNeitherLogNorCountBelowTheLoggersLevel() {
        try (CapturedLog log = CapturedLog.of(LogThrottleTest.class, Level.WARN)) {
            LogThrottle throttle = throttle(1);
            throttle.log("x");
            throttle.log("y");
            assertThat(log.lines()).isEmpty();
            assertThat(throttle.suppressed()).isZero();
        }
    }
}
