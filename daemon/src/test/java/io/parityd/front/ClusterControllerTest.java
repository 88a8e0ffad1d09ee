package io.parityd.front;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.parityd.link.Command;
import io.parityd.link.Reply;
import io.parityd.link.Request;
import io.parityd.replication.ReplyStatus;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The front's side of HA mode as a plain object: which request goes where, and who owns each
 * write payload until every link has sent it. The links here are recorders that send nothing
 * until the test says so, which is what a slow or joining standby's link looks like.
 */
class ClusterControllerTest {

    /** A link that keeps what it was given, unsent, until {@link #sendAll}. */
    private static final class HeldLink implements ClusterController.Target {
        final String name;
        final List<Request> held = new ArrayList<>();

        HeldLink(String name) {
            this.name = name;
        }

        @Override
        public synchronized void send(Request r) {
            held.add(r);
        }

        @Override
        public String name() {
            return name;
        }

        /** "Writes" each held request to the wire: returns their bytes and releases them, as a link does. */
        synchronized List<byte[]> sendAll() {
            List<byte[]> wire = new ArrayList<>();
            for (Request r : held) {
                wire.add(ByteBufUtil.getBytes(r.data()));
                r.release();
            }
            held.clear();
            return wire;
        }
    }

    private final List<ByteBuf> toRelease = new ArrayList<>();

    @AfterEach
    void release() {
        toRelease.forEach(b -> {
            if (b.refCnt() > 0) {
                b.release(b.refCnt());
            }
        });
    }

    private static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /**
     * Issue 13, defect 1: while a standby joins, the primary answers without waiting for it, so
     * the front replies and frees the client's payload while the standby's link may still hold
     * the write unsent. The standby must still send the bytes the client wrote, not whatever the
     * freed memory holds next.
     */
    @Test
    void shouldSendTheStandbyTheClientsBytesEvenAfterThePrimaryAnswered() throws Exception {
        ClusterController cluster = new ClusterController(1 << 20, 1);
        HeldLink primary = new HeldLink("a");
        HeldLink standby = new HeldLink("b");
        cluster.primaryIs(primary);
        cluster.standbyIs(standby, seq -> { });

        // The front's NBD handler holds the payload in a pooled buffer until the answer.
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(4096);
        payload.writeBytes(filled(4096, 0x11));
        CompletableFuture<Void> done = cluster.write(8192, payload, false);

        List<byte[]> toPrimary = primary.sendAll();
        assertThat(toPrimary).hasSize(1);
        cluster.answered(primary, new Reply(1, ReplyStatus.OK, "", Unpooled.EMPTY_BUFFER));
        assertThat(done).isCompleted();
        payload.release(); // the handler replied and let go of the payload

        // The next request's payload reuses that memory.
        ByteBuf next = PooledByteBufAllocator.DEFAULT.directBuffer(4096);
        toRelease.add(next);
        next.writeBytes(filled(4096, 0x22));

        List<byte[]> toStandby = standby.sendAll();
        assertThat(toStandby).hasSize(1);
        assertThat(Arrays.equals(toStandby.get(0), filled(4096, 0x11)))
                .as("the standby sends the client's bytes for seq 1, not the next request's").isTrue();
    }
}
