package io.parityd;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/** The leak check can fail: a buffer dropped unreleased is reported, one released is not. */
class LeakCheckTest {

    @Test
    void shouldReportABufferThatWasNeverReleased() throws Exception {
        LeakCheck check = new LeakCheck();
        check.start();
        leak();
        assertThat(check.stop()).as("reports").anyMatch(r -> r.contains("LEAK:"));
    }

    @Test
    void shouldReportNothingWhenEveryBufferWasReleased() throws Exception {
        LeakCheck check = new LeakCheck();
        check.start();
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(4096);
        b.writeLong(1);
        b.release();
        assertThat(check.stop()).isEmpty();
    }

    private static void leak() {
        ByteBuf lost = PooledByteBufAllocator.DEFAULT.directBuffer(4096);
        lost.writeLong(42); // and never released: only the garbage collector sees it go
    }
}
