package io.parityd.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import io.parityd.link.Finished;
import io.parityd.link.Retired;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The primary's Finished stream: seqs handed in between two turns of the link's event loop go
 * out as one message, after whatever was written to the link before them; with no standby they
 * go nowhere, and a batch past the limit drops seqs rather than grow without bound.
 */
class FinishedBatcherTest {

    private final EmbeddedChannel link = new EmbeddedChannel();
    private final AtomicReference<Channel> standby = new AtomicReference<>(link);
    private final FinishedBatcher batcher = new FinishedBatcher(standby::get);

    @Test
    void shouldSendTheSeqsOfOneTurnAsOneMessageAfterWhatCameBefore() {
        link.writeOutbound(new Retired(3)); // stands for a record sent before the writes finished
        batcher.accept(7);
        batcher.accept(5);
        batcher.accept(9);
        assertThat(link.outboundMessages()).hasSize(1);
        link.runPendingTasks();
        assertThat((Object) link.readOutbound()).isEqualTo(new Retired(3));
        assertThat((Object) link.readOutbound()).isEqualTo(new Finished(new long[] {7, 5, 9}));
        assertThat((Object) link.readOutbound()).isNull();

        batcher.accept(11);
        link.runPendingTasks();
        assertThat((Object) link.readOutbound()).as("the next turn's").isEqualTo(new Finished(new long[] {11}));
    }

    @Test
    void shouldSendNothingWithoutAStandbyOrOnAClosedLink() {
        standby.set(null);
        batcher.accept(1);
        standby.set(link);
        link.close();
        batcher.accept(2);
        link.runPendingTasks();
        assertThat((Object) link.readOutbound()).isNull();
    }

    @Test
    void shouldDropSeqsPastTheLimitOfOneMessage() {
        for (long s = 1; s <= Finished.MAX_SEQS + 10; s++) {
            batcher.accept(s);
        }
        link.runPendingTasks();
        Finished sent = link.readOutbound();
        assertThat(sent.count()).isEqualTo(Finished.MAX_SEQS);
        assertThat(sent.seq(Finished.MAX_SEQS - 1)).isEqualTo(Finished.MAX_SEQS);
        assertThat((Object) link.readOutbound()).isNull();
    }
}
