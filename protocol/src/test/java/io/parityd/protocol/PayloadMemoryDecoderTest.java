package io.parityd.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The request decoder and the global {@link PayloadBudget} (issue 14, defect 2): a request whose
 * memory does not fit is parked, its connection told to stop reading, and decoded once memory
 * comes back; what it reserved travels with it, and a connection that goes away gives back what
 * it held. Nothing here is ever allocated beyond the budget.
 */
class PayloadMemoryDecoderTest {

    private static final int MAX = 4096;

    /** Records the decoder's memory events behind it. */
    private static final class Events extends ChannelInboundHandlerAdapter {
        final List<Object> seen = new ArrayList<>();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            seen.add(evt);
        }
    }

    @Test
    void shouldParkAWriteThatDoesNotFitUntilMemoryComesBack() {
        PayloadBudget budget = new PayloadBudget(4500);
        Events events = new Events();
        EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder(MAX, budget), events);
        byte[] first = Wire.pattern(MAX, 1);
        byte[] second = Wire.pattern(MAX, 2);
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.request(0, 1, 1, 0, MAX), first,
                Wire.request(0, 1, 2, MAX, MAX), second, Wire.request(0, 0, 3, 0, 512))));

        NbdRequest held = channel.readInbound();
        assertThat(held.cookie()).isEqualTo(1);
        assertThat(held.reserved()).isEqualTo(MAX);
        assertThat((Object) channel.readInbound()).as("the second WRITE waits for memory").isNull();
        assertThat(events.seen).containsExactly(PayloadMemory.Wait.WAITING);
        assertThat(budget.used()).isEqualTo(MAX);
        assertThat(budget.waiting()).isEqualTo(1);

        // The first one is answered: its memory comes back, and what waited is decoded in order.
        held.release();
        budget.release(held.reserved());
        channel.runPendingTasks();
        NbdRequest next = channel.readInbound();
        assertThat(next.cookie()).isEqualTo(2);
        assertThat(ByteBufUtil.getBytes(next.payload())).isEqualTo(second);
        assertThat((Object) channel.readInbound()).as("the READ after it: 4096 + 512 do not fit in 4500").isNull();
        assertThat(events.seen).containsExactly(PayloadMemory.Wait.WAITING, PayloadMemory.Wait.GRANTED,
                PayloadMemory.Wait.WAITING);
        next.release();
        budget.release(next.reserved());
        channel.runPendingTasks();
        NbdRequest read = channel.readInbound();
        assertThat(read.type()).isEqualTo(CommandType.READ);
        assertThat(read.reserved()).as("a READ reserves its reply's data").isEqualTo(512);
        budget.release(read.reserved());
        read.release();
        assertThat(budget.used()).isZero();
        assertFalse(channel.finish());
    }

    @Test
    void shouldGiveBackWhatAConnectionHeldWhenItGoesAwayMidPayload() {
        PayloadBudget budget = new PayloadBudget(MAX);
        EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder(MAX, budget));
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.request(0, 1, 1, 0, MAX), Wire.pattern(100, 1))));
        assertThat(budget.used()).as("reserved for the payload on its way").isEqualTo(MAX);
        channel.close();
        assertThat(budget.used()).as("given back when the client vanished").isZero();
        assertFalse(channel.finish());
    }

    @Test
    void shouldNotReserveForRequestsThatCarryNoData() {
        PayloadBudget budget = new PayloadBudget(1);
        budget.reserve(1, () -> { });
        EmbeddedChannel channel = new EmbeddedChannel(new RequestDecoder(MAX, budget));
        channel.writeInbound(Unpooled.wrappedBuffer(Wire.concat(Wire.request(0, 3, 1, 0, 0), // FLUSH
                Wire.request(0, 4, 2, 0, 1 << 20), // TRIM
                Wire.request(0, 0, 3, 0, 1L << 31)))); // a READ over the maximum: refused later, no buffer
        for (int cookie = 1; cookie <= 3; cookie++) {
            NbdRequest r = channel.readInbound();
            assertThat(r.cookie()).isEqualTo(cookie);
            assertThat(r.reserved()).isZero();
            r.release();
        }
        assertFalse(channel.finish());
    }

    @Test
    void shouldKeepAnEighthForSmallRequestsWhileLargeOnesWait() {
        PayloadBudget budget = new PayloadBudget(64L << 20);
        assertThat(budget.reserve(32L << 20, () -> { })).isTrue();
        assertThat(budget.reserve(24L << 20, () -> { })).as("56 MiB is the large ones' seven eighths").isTrue();
        assertThat(budget.reserve(2L << 20, () -> { })).as("a large one past 56 MiB").isFalse();
        assertThat(budget.reserve(4096, () -> { })).as("a small one still fits").isTrue();
        assertThat(budget.reserve(PayloadBudget.SMALL, () -> { })).isTrue();
        assertThat(budget.used()).isEqualTo((56L << 20) + 4096 + PayloadBudget.SMALL);
    }

    @Test
    void shouldLetOneRequestLargerThanTheWholeBudgetThroughWhenNothingElseHoldsMemory() {
        PayloadBudget budget = new PayloadBudget(1000);
        assertThat(budget.reserve(MAX, () -> { })).isTrue();
        assertThat(budget.reserve(1, () -> { })).isFalse();
        budget.release(MAX);
        assertThat(budget.used()).isZero();
    }
}
