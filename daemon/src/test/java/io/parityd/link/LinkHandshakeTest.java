package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.parityd.link.Frames.ARRAY;
import static io.parityd.link.Frames.concat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Two ends of a link, each an embedded channel with the real pipeline; the test carries the bytes
 * one writes over to the other, as a connection would, until neither has anything left to say.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.parityd.LeakCheck.class)
class LinkHandshakeTest {

    private static final LinkSecret SECRET = LinkSecret.of("correct horse battery staple".getBytes(StandardCharsets.UTF_8));
    private static final LinkSecret OTHER_SECRET = LinkSecret.of("another secret, 16+ bytes".getBytes(StandardCharsets.UTF_8));
    private static final Duration TIMEOUT = Duration.ofMillis(500);

    /** One end: its channel, what reached its handler, and every byte it sent. */
    private static final class End {
        final EmbeddedChannel channel = new EmbeddedChannel();
        final LinkRecorder recorder = new LinkRecorder();
        final ByteArrayOutputStream sent = new ByteArrayOutputStream();

        End(LinkSide side, Hello ours, LinkSecret secret, HelloCheck check) {
            channel.freezeTime();
            LinkPipeline.install(channel.pipeline(), side, ours, secret, check, TIMEOUT);
            channel.pipeline().addLast(recorder);
        }

        /** What this end wrote since the last call; also kept in {@link #sent}. */
        byte[] take() {
            byte[] bytes = Frames.outbound(channel);
            sent.writeBytes(bytes);
            return bytes;
        }

        void receive(byte[] bytes) {
            channel.writeInbound(Unpooled.wrappedBuffer(bytes));
        }

        /** Every message this end sent, decoded by a separate decoder. */
        List<Object> sentMessages() {
            take();
            return Frames.decode(sent.toByteArray());
        }

        LinkEstablished established() {
            return (LinkEstablished) recorder.events.stream().filter(e -> e instanceof LinkEstablished).findFirst()
                    .orElseThrow(() -> new AssertionError("no LinkEstablished; events: " + recorder.events));
        }

        boolean handshakeInPipeline() {
            return channel.pipeline().get(LinkHandshake.class) != null;
        }

        void finish() {
            recorder.messages.forEach(ReferenceCountUtil::release);
            take();
            assertFalse(channel.finish());
        }
    }

    /** "ctl-a" dials, every other node answers: one connection between two of them has one of each. */
    private static End end(String nodeId, LinkSecret secret) {
        return new End(nodeId.equals("ctl-a") ? LinkSide.DIALS : LinkSide.ANSWERS,
                Frames.hello(NodeKind.CONTROLLER, nodeId, ARRAY), secret, HelloCheck.acceptAll());
    }

    /** Carries bytes both ways until both ends are quiet; bytes for a closed end are lost, as on a reset connection. */
    private static void pump(End a, End b) {
        boolean moved;
        do {
            moved = carry(a, b) | carry(b, a);
        } while (moved);
    }

    private static boolean carry(End from, End to) {
        byte[] bytes = from.take();
        if (bytes.length == 0) {
            return false;
        }
        if (to.channel.isOpen()) {
            to.receive(bytes);
        }
        return true;
    }

    private static List<Refuse> refusals(End end) {
        return end.sentMessages().stream().filter(m -> m instanceof Refuse).map(m -> (Refuse) m).toList();
    }

    @Test
    void shouldEstablishALinkAndGetOutOfTheWay() {
        End a = end("ctl-a", SECRET);
        End b = end("ctl-b", SECRET);
        pump(a, b);

        Hello aSent = (Hello) a.sentMessages().get(0);
        Hello bSent = (Hello) b.sentMessages().get(0);
        assertThat(a.established().peer()).isEqualTo(bSent);
        assertThat(b.established().peer()).isEqualTo(aSent);
        assertThat(a.established().peer().nodeId()).isEqualTo("ctl-b");
        assertThat(a.handshakeInPipeline()).isFalse();
        assertThat(b.handshakeInPipeline()).isFalse();
        assertThat(a.sentMessages()).extracting(m -> ((LinkMessage) m).type())
                .containsExactly(MessageType.HELLO, MessageType.AUTH);

        // From here on, messages go to the caller's handler.
        a.channel.writeAndFlush(new Request(1, Command.WRITE, 0, 0, 3, Unpooled.wrappedBuffer(new byte[]{1, 2, 3})));
        b.channel.writeAndFlush(new Received(1));
        pump(a, b);
        Request expected = new Request(1, Command.WRITE, 0, 0, 3, Unpooled.wrappedBuffer(new byte[]{1, 2, 3}));
        assertThat(b.recorder.messages).containsExactly(expected);
        assertThat(a.recorder.messages).containsExactly(new Received(1));
        expected.release();

        // The deadline went with the handshake.
        a.channel.advanceTimeBy(10, TimeUnit.SECONDS);
        a.channel.runScheduledPendingTasks();
        assertThat(a.channel.isOpen()).isTrue();
        assertThat(a.recorder.errors).isEmpty();
        a.finish();
        b.finish();
    }

    @Test
    void shouldHandOnWhatFollowsThePeersAuthInTheSameRead() {
        End a = end("ctl-a", SECRET);
        End b = end("ctl-b", SECRET);
        byte[] helloA = a.take();
        byte[] helloB = b.take();
        b.receive(helloA);
        byte[] authB = b.take();
        a.receive(helloB);
        b.receive(a.take());
        assertThat(b.established().peer().nodeId()).isEqualTo("ctl-a");
        b.channel.writeAndFlush(new Reply(5, LinkFormat.STATUS_OK, "", Unpooled.wrappedBuffer(new byte[]{42})));

        a.receive(concat(authB, b.take())); // the Auth and the first message in one read
        assertThat(a.established().peer().nodeId()).isEqualTo("ctl-b");
        assertThat(a.recorder.messages).singleElement().isInstanceOfSatisfying(Reply.class,
                r -> assertThat(r.content().getByte(0)).isEqualTo((byte) 42));
        a.finish();
        b.finish();
    }

    @Test
    void shouldSendAFreshNonceOnEveryConnectionEvenForOneHello() {
        Hello ours = Frames.hello(NodeKind.FRONT, "front-1", ARRAY);
        End first = new End(LinkSide.DIALS, ours, SECRET, HelloCheck.acceptAll());
        End second = new End(LinkSide.DIALS, ours, SECRET, HelloCheck.acceptAll());
        Hello sentFirst = (Hello) first.sentMessages().get(0);
        Hello sentSecond = (Hello) second.sentMessages().get(0);
        assertThat(sentFirst.nonce()).isNotEqualTo(sentSecond.nonce()).isNotEqualTo(ours.nonce());
        assertThat(sentFirst.nodeId()).isEqualTo("front-1");
        first.finish();
        second.finish();
    }

    @Test
    void shouldRefuseAPeerWithAnotherSecret() {
        End a = end("ctl-a", SECRET);
        End b = end("ctl-b", OTHER_SECRET);
        pump(a, b);

        assertThat(a.channel.isOpen()).isFalse();
        assertThat(b.channel.isOpen()).isFalse();
        assertThat(a.recorder.events).noneMatch(e -> e instanceof LinkEstablished);
        assertThat(b.recorder.events).noneMatch(e -> e instanceof LinkEstablished);
        // Both detect it: each side's MAC fails the other's check.
        assertThat(refusals(a)).containsExactly(new Refuse(LinkHandshake.AUTH_FAILED));
        assertThat(refusals(b)).containsExactly(new Refuse(LinkHandshake.AUTH_FAILED));
        assertThat(LinkHandshake.AUTH_FAILED).contains("shared secret differs", "--secret-file");
        a.finish();
        b.finish();
    }

    @Test
    void shouldRefuseAPeerOfAnotherArrayNamingBoth() {
        UUID other = UUID.fromString("11111111-2222-3333-4444-555555555555");
        End a = new End(LinkSide.DIALS, Frames.hello(NodeKind.CONTROLLER, "ctl-a", ARRAY), SECRET, HelloCheck.acceptAll());
        End b = new End(LinkSide.ANSWERS, Frames.hello(NodeKind.CONTROLLER, "ctl-b", other), SECRET,
                HelloCheck.acceptAll());
        pump(a, b);

        assertThat(a.channel.isOpen()).isFalse();
        assertThat(b.channel.isOpen()).isFalse();
        assertThat(refusals(b)).containsExactly(
                new Refuse("peer ctl-a belongs to array " + ARRAY + ", not " + other));
        assertThat(refusals(a)).containsExactly(
                new Refuse("peer ctl-b belongs to array " + other + ", not " + ARRAY));
        assertThat(a.sentMessages()).noneMatch(m -> m instanceof Auth);
        assertThat(a.recorder.events).noneMatch(e -> e instanceof LinkEstablished);
        assertThat(b.recorder.events).noneMatch(e -> e instanceof LinkEstablished);
        a.finish();
        b.finish();
    }

    @Test
    void shouldRefuseWhatTheHelloCheckRefusesAndTellThePeer() {
        List<Hello> checked = new ArrayList<>();
        End a = end("ctl-a", SECRET);
        End b = new End(LinkSide.ANSWERS, Frames.hello(NodeKind.CONTROLLER, "ctl-b", ARRAY), SECRET, peer -> {
            checked.add(peer);
            return "epoch " + peer.epoch() + " is stale";
        });
        // b hears first, so a still gets b's Refuse.
        b.receive(a.take());
        a.receive(b.take());

        assertThat(checked).extracting(Hello::nodeId).containsExactly("ctl-a");
        assertThat(refusals(b)).containsExactly(new Refuse("epoch 17 is stale"));
        assertThat(b.sentMessages()).noneMatch(m -> m instanceof Auth);
        assertThat(b.channel.isOpen()).isFalse();
        assertThat(a.recorder.events).containsExactly(new LinkRefused("epoch 17 is stale"));
        assertThat(a.channel.isOpen()).isFalse();
        a.finish();
        b.finish();
    }

    @Test
    void shouldCloseOnAMessageBeforeTheHandshake() {
        End a = end("ctl-a", SECRET);
        ByteBuf data = Unpooled.wrappedBuffer(new byte[]{1, 2, 3, 4});
        byte[] write = Frames.encode(new Request(1, Command.WRITE, 0, 0, 4, data));
        a.receive(write);

        assertThat(a.channel.isOpen()).isFalse();
        assertThat(a.recorder.messages).isEmpty();
        assertThat(a.recorder.events).isEmpty();
        assertThat(refusals(a)).containsExactly(
                new Refuse("link protocol error: a REQUEST before the handshake finished"));
        a.finish();
    }

    @Test
    void shouldCloseOnAnAuthBeforeTheHello() {
        End a = end("ctl-a", SECRET);
        a.receive(Frames.encode(new Auth(new byte[32])));
        assertThat(a.channel.isOpen()).isFalse();
        assertThat(refusals(a)).containsExactly(new Refuse("link protocol error: an AUTH before the peer's HELLO"));
        a.finish();
    }

    @Test
    void shouldCloseOnASecondHello() {
        End a = end("ctl-a", SECRET);
        byte[] hello = Frames.encode(Frames.hello(NodeKind.CONTROLLER, "ctl-b", ARRAY));
        a.receive(concat(hello, hello));
        assertThat(a.channel.isOpen()).isFalse();
        assertThat(refusals(a)).containsExactly(new Refuse("link protocol error: a second HELLO"));
        assertThat(a.recorder.events).isEmpty();
        a.finish();
    }

    @Test
    void shouldCloseWhenTheHandshakeTakesTooLong() {
        End a = end("ctl-a", SECRET);
        a.receive(Frames.encode(Frames.hello(NodeKind.CONTROLLER, "ctl-b", ARRAY))); // then silence: no Auth
        a.channel.advanceTimeBy(TIMEOUT.toMillis() - 1, TimeUnit.MILLISECONDS);
        a.channel.runScheduledPendingTasks();
        assertThat(a.channel.isOpen()).as("just before the deadline").isTrue();
        a.channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
        a.channel.runScheduledPendingTasks();
        assertThat(a.channel.isOpen()).as("at the deadline").isFalse();
        assertThat(a.recorder.events).isEmpty();
        a.finish();
    }

    @Test
    void shouldRefuseACapturedAuthReplayedOnANewConnection() {
        Hello aHello = Frames.hello(NodeKind.CONTROLLER, "ctl-a", ARRAY);
        End a1 = new End(LinkSide.DIALS, aHello, SECRET, HelloCheck.acceptAll());
        End b1 = end("ctl-b", SECRET);
        pump(a1, b1);
        a1.established();
        byte[] capturedFromB = b1.sent.toByteArray(); // b's Hello and Auth

        // An attacker without the secret connects to a again, replaying b's side word for word.
        End a2 = new End(LinkSide.DIALS, aHello, SECRET, HelloCheck.acceptAll());
        a2.receive(capturedFromB);

        assertThat(a2.channel.isOpen()).isFalse();
        assertThat(a2.recorder.events).isEmpty();
        assertThat(refusals(a2)).containsExactly(new Refuse(LinkHandshake.AUTH_FAILED));
        a1.finish();
        b1.finish();
        a2.finish();
    }

    /**
     * Issue 14, defect 3: someone without the secret connects to two nodes (both answer) and
     * hands each the other's HELLO, then the other's AUTH. The MAC names the side that sent it,
     * and each node expects one from a node that dialled: both refuse.
     */
    @Test
    void shouldRefuseAnAuthRelayedBetweenTwoNodesThatBothAnswered() {
        for (LinkSide both : LinkSide.values()) {
            End a = new End(both, Frames.hello(NodeKind.CONTROLLER, "ctl-a", ARRAY), SECRET, HelloCheck.acceptAll());
            End b = new End(both, Frames.hello(NodeKind.CONTROLLER, "ctl-b", ARRAY), SECRET, HelloCheck.acceptAll());
            byte[] helloA = a.take();
            byte[] helloB = b.take();
            a.receive(helloB);
            b.receive(helloA);
            byte[] authA = a.take();
            byte[] authB = b.take();
            a.receive(authB);
            b.receive(authA);
            for (End end : List.of(a, b)) {
                assertThat(end.recorder.events).as("both %s: a link established", both).isEmpty();
                assertThat(end.channel.isOpen()).isFalse();
                assertThat(refusals(end)).containsExactly(new Refuse(LinkHandshake.AUTH_FAILED));
                end.finish();
            }
        }
    }

    @Test
    void shouldRefuseOurOwnHelloReflectedFromAnotherConnection() {
        // An attacker opens two connections to a and sends each one a's Hello from the other. Without
        // the check, a would answer the second with the very Auth the first expects.
        Hello aHello = Frames.hello(NodeKind.CONTROLLER, "ctl-a", ARRAY);
        End first = new End(LinkSide.ANSWERS, aHello, SECRET, HelloCheck.acceptAll());
        End second = new End(LinkSide.ANSWERS, aHello, SECRET, HelloCheck.acceptAll());
        byte[] firstHello = first.take();
        byte[] secondHello = second.take();
        second.receive(firstHello);
        first.receive(secondHello);

        for (End end : List.of(first, second)) {
            assertThat(end.channel.isOpen()).isFalse();
            assertThat(end.sentMessages()).noneMatch(m -> m instanceof Auth);
            assertThat(refusals(end)).singleElement().extracting(Refuse::reason).asString()
                    .contains("this very node", "ctl-a");
            end.finish();
        }
    }

    @Test
    void shouldRejectAZeroTimeout() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LinkHandshake(LinkSide.DIALS,
                        Frames.hello(NodeKind.FRONT, "f", ARRAY), SECRET, HelloCheck.acceptAll(), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive");
    }
}
