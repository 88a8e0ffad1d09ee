package io.parityd.protocol;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.Arrays;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * What one class logs during a test, rendered with the daemon's own pattern, so a test sees the
 * lines an operator would see in the journal. Attach with try-with-resources; detaches on close.
 */
final class CapturedLog implements AutoCloseable {

    /** The daemon's pattern (daemon/src/main/resources/logback.xml). */
    static final String PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{0}: %msg%n";

    private final Logger logger;
    private final Level previous;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final PatternLayout layout = new PatternLayout();

    private CapturedLog(String name, Level level) {
        logger = (Logger) LoggerFactory.getLogger(name);
        previous = logger.getLevel();
        layout.setContext(logger.getLoggerContext());
        layout.setPattern(PATTERN);
        layout.start();
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(level);
    }

    /** Captures what {@code source} logs at {@code level} and above. */
    static CapturedLog of(Class<?> source, Level level) {
        return new CapturedLog(source.getName(), level);
    }

    /** Captures what the logger named {@code name} logs at {@code level} and above. */
    static CapturedLog of(String name, Level level) {
        return new CapturedLog(name, level);
    }

    /** Every line written so far, as the log file would hold them (a message with a newline makes two). */
    List<String> lines() {
        StringBuilder all = new StringBuilder();
        for (ILoggingEvent event : List.copyOf(appender.list)) {
            all.append(layout.doLayout(event));
        }
        // Split as a terminal or journalctl would: at every line feed; the last one ends the text.
        List<String> split = Arrays.asList(all.toString().split("\n", -1));
        return split.subList(0, split.size() - 1);
    }

    /** The lines that contain {@code text}. */
    List<String> linesWith(String text) {
        return lines().stream().filter(l -> l.contains(text)).toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        logger.setLevel(previous);
        appender.stop();
        layout.stop();
    }
}
