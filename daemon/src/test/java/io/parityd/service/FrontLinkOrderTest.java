package io.parityd.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.parityd.link.Command;
import io.parityd.link.Request;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The failure HaFaultsIT once caught: the front was killed with a write in flight at the primary;
 * the restarted front read the block (old version), and the dead front's write landed afterwards.
 * A newer link's requests must wait for the older links' to finish, and a request that arrives on
 * a replaced link must never run.
 */
class FrontLinkOrderTest {

    private final List<String> started = new ArrayList<>();
    private final FrontLinkOrder order = new FrontLinkOrder((front, link, r) -> started.add(link + ":" + r.seq()));
    private final EmbeddedChannel oldLink = new EmbeddedChannel();
    private final EmbeddedChannel newLink = new EmbeddedChannel();
    private final List<Request> requests = new ArrayList<>();

    @AfterEach
    void close() {
        oldLink.finishAndReleaseAll();
        newLink.finishAndReleaseAll();
        requests.stream().filter(r -> r.refCnt() > 0).forEach(Request::release);
    }

    private Request write(long seq) {
        ByteBuf data = Unpooled.buffer(4096).writeZero(4096);
        Request r = new Request(seq, Command.WRITE, 0, 0, 4096, data);
        requests.add(r);
        return r;
    }

    @Test
    void shouldHoldTheNewLinksRequestsUntilTheOldLinksHaveFinished() {
        order.submit(oldLink, 1, write(10));
        order.submit(oldLink, 1, write(11));
        assertThat(started).containsExactly("1:10", "1:11");

        order.submit(newLink, 2, new Request(1, Command.READ, 0, 0, 4096));
        order.submit(newLink, 2, write(2));
        assertThat(started).as("the new link's read waits for the old link's writes").hasSize(2);
        assertThat(order.held()).isEqualTo(2);

        order.finished(1);
        newLink.runPendingTasks();
        assertThat(started).as("one old write still runs").hasSize(2);

        order.finished(1);
        newLink.runPendingTasks();
        assertThat(started).containsExactly("1:10", "1:11", "2:1", "2:2");
        order.submit(newLink, 2, write(3));
        assertThat(started).last().isEqualTo("2:3");
    }

    @Test
    void shouldDropARequestThatArrivesOnAReplacedLink() {
        order.submit(newLink, 2, write(1));
        Request late = write(12);
        order.submit(oldLink, 1, late);
        assertThat(started).containsExactly("2:1");
        assertThat(late.refCnt()).as("released, never run").isZero();
    }

    @Test
    void shouldDropHeldRequestsOfALinkThatIsReplacedInTurn() {
        EmbeddedChannel third = new EmbeddedChannel();
        try {
            order.submit(oldLink, 1, write(10));
            Request held = write(1);
            order.submit(newLink, 2, held);
            order.submit(third, 3, write(1));
            assertThat(held.refCnt()).as("link 2's held request dropped when link 3 came").isZero();
            order.finished(1);
            third.runPendingTasks();
            newLink.runPendingTasks();
            assertThat(started).containsExactly("1:10", "3:1");
        } finally {
            third.finishAndReleaseAll();
        }
    }

    @Test
    void shouldRunEverythingAtOnceWhileOneLinkServes() {
        for (int i = 1; i <= 5; i++) {
            order.submit(newLink, 7, write(i));
        }
        order.finished(7);
        order.submit(newLink, 7, write(6));
        assertThat(started).hasSize(6);
        assertThat(order.held()).isZero();
    }

    @Test
    void shouldReleaseHeldRequestsWhenThePrimaryStops() {
        order.submit(oldLink, 1, write(10));
        Request held = write(1);
        order.submit(newLink, 2, held);
        order.dropHeld();
        assertThat(held.refCnt()).as("released, never run").isZero();
        order.finished(1);
        newLink.runPendingTasks();
        assertThat(started).containsExactly("1:10");
    }
}
