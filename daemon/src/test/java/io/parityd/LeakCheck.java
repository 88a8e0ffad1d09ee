package io.parityd;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test that leaked a Netty buffer or misused one ("Buffers have owners", STYLE.md).
 * Netty's leak detector only logs, and only once a leaked buffer has been collected and another
 * allocation looks at its queue; after each test this collects garbage, allocates until the
 * reports are out, and fails if any was logged, or if any {@code IllegalReferenceCountException}
 * was. Surefire runs tests with the detector at {@code paranoid}, which tracks every buffer.
 */
public final class LeakCheck implements BeforeEachCallback, AfterEachCallback {

    private static final String[] WATCHED = {ResourceLeakDetector.class.getName(), "io.netty", "io.parityd"};

    private final Recorder recorder = new Recorder();

    private static final class Recorder extends AppenderBase<ILoggingEvent> {
        final List<String> found = new ArrayList<>();

        @Override
        protected synchronized void append(ILoggingEvent e) {
            String text = e.getFormattedMessage();
            String thrown = e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getClassName();
            if (text.contains("LEAK:") || text.contains("IllegalReferenceCountException")
                    || thrown.endsWith("IllegalReferenceCountException")) {
                found.add(e.getLoggerName() + ": " + text.lines().limit(12).reduce("", (a, b) -> a + b + "\n"));
            }
        }

        synchronized List<String> found() {
            return List.copyOf(found);
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        start();
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        List<String> found = stop();
        if (!found.isEmpty()) {
            throw new AssertionError("buffer leaks or reference-count errors during " + context.getDisplayName()
                    + ":\n" + String.join("\n", found));
        }
    }

    /** Starts watching the logs. */
    public void start() {
        recorder.start();
        for (String name : WATCHED) {
            ((Logger) LoggerFactory.getLogger(name)).addAppender(recorder);
        }
    }

    /** Flushes out the leak reports of everything collected by now, stops watching, and returns what was found. */
    public List<String> stop() throws InterruptedException {
        try {
            for (int round = 0; round < 3; round++) {
                System.gc();
                Thread.sleep(20);
                for (int i = 0; i < 64; i++) {
                    // Each tracked allocation looks at the queue of collected, unreleased buffers.
                    ByteBuf pooled = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                    pooled.release();
                    ByteBuf unpooled = UnpooledByteBufAllocator.DEFAULT.heapBuffer(16);
                    unpooled.release();
                }
            }
            return recorder.found();
        } finally {
            for (String name : WATCHED) {
                ((Logger) LoggerFactory.getLogger(name)).detachAppender(recorder);
            }
            recorder.stop();
        }
    }
}
