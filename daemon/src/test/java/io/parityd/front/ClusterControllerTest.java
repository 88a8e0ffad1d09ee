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
@org.junit.jupiter.api.extension.ExtendWith(io.parityd.LeakCheck.class)
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
     * Issue 13, defect 1: a link may send a write later than its answer comes (a slow or joining
     * standby's did; here a primary that was given up on while its link still held the write), so
     * the front must keep the client's bytes valid for it after the client freed its buffer. The
     * link must still send the bytes the client wrote, not whatever the freed memory holds next.
     */
    @Test
    void shouldKeepTheClientsBytesForALinkThatSendsAfterTheAnswer() throws Exception {
        ClusterController cluster = new ClusterController(1 << 20, 1);
        HeldLink slow = new HeldLink("a");
        cluster.primaryIs(slow);

        // The front's NBD handler holds the payload in a pooled buffer until the answer.
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(4096);
        payload.writeBytes(filled(4096, 0x11));
        CompletableFuture<Void> done = cluster.write(8192, payload, false);

        cluster.noPrimary("a stopped answering"); // its link still holds the write, unsent
        HeldLink next = new HeldLink("b");
        cluster.primaryIs(next);
        assertThat(next.sendAll()).hasSize(1);
        cluster.answered(next, new Reply(1, ReplyStatus.OK, "", Unpooled.EMPTY_BUFFER));
        assertThat(done).isCompleted();
        payload.release(); // the handler replied and let go of the payload

        // The next request's payload reuses that memory.
        ByteBuf reused = PooledByteBufAllocator.DEFAULT.directBuffer(4096);
        toRelease.add(reused);
        reused.writeBytes(filled(4096, 0x22));

        List<byte[]> late = slow.sendAll();
        assertThat(late).hasSize(1);
        assertThat(Arrays.equals(late.get(0), filled(4096, 0x11)))
                .as("the late link sends the client's bytes for seq 1, not the next request's").isTrue();
    }

    /**
     * A primary that dies with writes unanswered: the front sends them again, with the client's
     * bytes, to the next primary; the first link's copy and the map's own reference go, and once
     * answered nothing but the client's reference is left.
     */
    @Test
    void shouldResendTheClientsBytesToTheNextPrimaryAndLetGoOfEveryReference() {
        ClusterController cluster = new ClusterController(1 << 20, 1);
        HeldLink first = new HeldLink("a");
        cluster.primaryIs(first);
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(4096);
        toRelease.add(payload);
        payload.writeBytes(filled(4096, 0x33));
        CompletableFuture<Void> done = cluster.write(0, payload, true);
        first.held.forEach(Request::release); // its link died with the write unsent
        first.held.clear();

        cluster.noPrimary("a lost");
        HeldLink second = new HeldLink("b");
        assertThat(cluster.primaryIs(second)).as("requests resent").isEqualTo(1);
        List<byte[]> resent = second.sendAll();
        assertThat(Arrays.equals(resent.get(0), filled(4096, 0x33))).as("the resent bytes").isTrue();
        assertThat(done).isNotDone();
        cluster.answered(second, new Reply(1, ReplyStatus.OK, "", Unpooled.EMPTY_BUFFER));
        assertThat(done).isCompleted();
        assertThat(payload.refCnt()).as("only the client's own reference is left").isEqualTo(1);
    }

    /** A stopping front fails what is unanswered and lets go of the payloads it held. */
    @Test
    void shouldLetGoOfPayloadsWhenClosed() {
        ClusterController cluster = new ClusterController(1 << 20, 1);
        ByteBuf payload = PooledByteBufAllocator.DEFAULT.directBuffer(4096);
        toRelease.add(payload);
        payload.writeBytes(filled(4096, 0x44));
        CompletableFuture<Void> waiting = cluster.write(0, payload, false); // no primary yet: it waits
        assertThat(payload.refCnt()).isEqualTo(2);
        cluster.close();
        assertThat(waiting).isCompletedExceptionally();
        assertThat(payload.refCnt()).isEqualTo(1);
    }

    /**
     * Issue 15: every request goes to the primary alone; the primary passes its journal record on
     * to the standby, so write data crosses the network once.
     */
    @Test
    void shouldSendEveryRequestToThePrimaryAlone() {
        ClusterController cluster = new ClusterController(1 << 20, 1);
        HeldLink primary = new HeldLink("a");
        cluster.primaryIs(primary);
        cluster.read(0, java.nio.ByteBuffer.allocate(512));
        cluster.flush();
        cluster.writeZeroes(0, 4096, true, true, false);
        cluster.writeZeroes(0, 4096, true, false, false);
        cluster.trim(0, 4096, false);
        cluster.write(0, java.nio.ByteBuffer.wrap(filled(512, 1)), false);
        assertThat(primary.held).extracting(Request::command).containsExactly(Command.READ, Command.FLUSH,
                Command.WRITE_ZEROES, Command.WRITE_ZEROES, Command.TRIM, Command.WRITE);
        primary.sendAll();
        cluster.close();
    }

    /**
     * Issue 15: a read's answer goes to the client as it came off the link, not copied; the
     * reply's own reference goes, the caller's is the last, and a wrong-sized answer fails the
     * read and keeps nothing.
     */
    @Test
    void shouldHandTheReadAnswerItselfToTheCaller() throws Exception {
        ClusterController cluster = new ClusterController(1 << 20, 1);
        HeldLink primary = new HeldLink("a");
        cluster.primaryIs(primary);
        CompletableFuture<ByteBuf> read = cluster.read(4096, 512, PooledByteBufAllocator.DEFAULT);
        CompletableFuture<ByteBuf> wrongSize = cluster.read(0, 512, PooledByteBufAllocator.DEFAULT);
        primary.sendAll();
        ByteBuf answer = PooledByteBufAllocator.DEFAULT.directBuffer(512);
        answer.writeBytes(filled(512, 0x5a));
        ByteBuf shortAnswer = PooledByteBufAllocator.DEFAULT.directBuffer(100);
        shortAnswer.writeBytes(filled(100, 1));

        cluster.answered(primary, new Reply(1, ReplyStatus.OK, "", answer));
        cluster.answered(primary, new Reply(2, ReplyStatus.OK, "", shortAnswer));

        ByteBuf handed = read.get();
        assertThat(handed.memoryAddress()).as("the answer's own memory").isEqualTo(answer.memoryAddress());
        assertThat(ByteBufUtil.getBytes(handed)).isEqualTo(filled(512, 0x5a));
        assertThat(answer.refCnt()).as("only the caller's reference is left").isEqualTo(1);
        handed.release();
        assertThat(answer.refCnt()).isZero();
        assertThat(wrongSize).isCompletedExceptionally();
        assertThat(shortAnswer.refCnt()).isZero();
        cluster.close();
    }

    /** A read that waits for a primary fails when the front stops, holding nothing. */
    @Test
    void shouldFailAWaitingReadWhenClosed() {
        ClusterController cluster = new ClusterController(1 << 20, 1);
        CompletableFuture<ByteBuf> read = cluster.read(0, 512, PooledByteBufAllocator.DEFAULT);
        cluster.close();
        assertThat(read).isCompletedExceptionally();
    }
}
