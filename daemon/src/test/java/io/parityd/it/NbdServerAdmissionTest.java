package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.parityd.controller.Admission;
import io.parityd.controller.AdmissionGate;
import io.parityd.controller.Controller;
import io.parityd.front.FrontConfig;
import io.parityd.front.FrontLimits;
import io.parityd.front.ListenAddress;
import io.parityd.front.NbdServer;
import io.parityd.front.VolumeExport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The controller's {@link Admission} over real sockets: a real {@link NbdServer} on loopback, a
 * controller whose gate the test flips and whose reads finish when the test says, and
 * {@link RawNbdClient}. While admission is closed no connection reads new requests; once open,
 * all of them arrive and are answered without an error; the per-connection limits hold
 * independently.
 *
 * <p>To know a pause has taken effect on a connection before sending to it, each test holds one
 * request on it, pauses, then finishes that request: its reply is queued on the connection's
 * event loop after the pause, so once the client has the reply, the pause has been applied.
 * "Nothing arrives" is a bounded wait; without the pause the requests would reach the
 * controller within microseconds.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.parityd.LeakCheck.class)
class NbdServerAdmissionTest {

    private static final long SIZE = 64L << 20;
    private static final int LENGTH = 512;
    private static final Duration QUIET = Duration.ofMillis(300);

    private final GatedController controller = new GatedController();
    private final List<RawNbdClient> clients = new ArrayList<>();
    private NbdServer server;

    @AfterEach
    void stop() throws IOException {
        controller.admission.resume();
        controller.answerAll(); // stop() waits for in-flight requests
        for (RawNbdClient c : clients) {
            c.close();
        }
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void shouldReadNothingNewWhilePausedAndAnswerEverythingAfterResume() throws Exception {
        start(FrontLimits.DEFAULT);
        RawNbdClient c = connect();
        pauseBehind(c);

        for (long cookie = 1; cookie <= 8; cookie++) {
            sendRead(c, cookie);
        }
        controller.assertNothingArrives();

        controller.admission.resume();
        List<GatedController.Call> calls = controller.take(8);
        assertThat(calls).extracting(GatedController.Call::offset).as("handed over in the order sent")
                .containsExactly(offsets(1, 8));
        calls.forEach(GatedController::answer);
        expectReplies(c, 1, 8);
    }

    @Test
    void shouldPauseAndResumeEveryConnection() throws Exception {
        start(FrontLimits.DEFAULT);
        RawNbdClient a = connect();
        RawNbdClient b = connect();
        pauseBehind(a, b);

        for (long cookie = 1; cookie <= 4; cookie++) {
            sendRead(a, cookie);
            sendRead(b, 10 + cookie);
        }
        controller.assertNothingArrives();

        controller.admission.resume();
        controller.take(8).forEach(GatedController::answer);
        expectReplies(a, 1, 4);
        expectReplies(b, 11, 14);
    }

    @Test
    void shouldFinishHandshakesWhilePausedButReadNoRequest() throws Exception {
        start(FrontLimits.DEFAULT);
        controller.admission.pause("test: NVRAM full");
        RawNbdClient c = connect(); // the handshake completes

        sendRead(c, 1);
        controller.assertNothingArrives();

        controller.admission.resume();
        controller.take(1).forEach(GatedController::answer);
        expectReplies(c, 1, 1);
    }

    @Test
    void shouldKeepEachConnectionsLimitsWhileAdmissionFlips() throws Exception {
        start(new FrontLimits(VolumeExport.BLOCK_SIZES.maximum(), 4));
        RawNbdClient c = connect();
        for (long cookie = 1; cookie <= 4; cookie++) {
            sendRead(c, cookie);
        }
        List<GatedController.Call> held = controller.take(4); // at its limit: the connection stopped reading
        sendRead(c, 5);
        sendRead(c, 6);
        controller.assertNothingArrives();

        controller.admission.pause("test: NVRAM full");
        controller.admission.resume();
        GatedController.answer(held.get(0)); // its reply follows both changes on the event loop
        expectReplies(c, 1, 1);
        controller.assertNothingArrives(); // three in flight, over half: admission opening must not resume

        controller.admission.pause("test: NVRAM full");
        GatedController.answer(held.get(1));
        expectReplies(c, 2, 2);
        controller.assertNothingArrives(); // back under half, but admission is closed

        controller.admission.resume();
        List<GatedController.Call> rest = controller.take(2);
        assertThat(rest).extracting(GatedController.Call::offset).containsExactly(offsets(5, 6));
        GatedController.answer(held.get(2));
        GatedController.answer(held.get(3));
        rest.forEach(GatedController::answer);
        expectReplies(c, 3, 6);
    }

    private void start(FrontLimits limits) throws IOException {
        server = NbdServer.start(new ListenAddress.Tcp("127.0.0.1", 0), new VolumeExport("vol", "admission test", SIZE),
                controller, new FrontConfig(2, limits, Duration.ofSeconds(5)));
    }

    private RawNbdClient connect() throws IOException {
        RawNbdClient c = RawNbdClient.open(server.uri(), "vol", false);
        clients.add(c);
        return c;
    }

    /** Closes admission and returns once every one of {@code connections} has applied it (see the class comment). */
    private void pauseBehind(RawNbdClient... connections) throws Exception {
        long cookie = 1000;
        for (RawNbdClient c : connections) {
            sendRead(c, cookie++);
        }
        List<GatedController.Call> held = controller.take(connections.length);
        controller.admission.pause("test: NVRAM full");
        held.forEach(GatedController::answer);
        cookie = 1000;
        for (RawNbdClient c : connections) {
            expectReplies(c, cookie, cookie++);
        }
    }

    private static void sendRead(RawNbdClient c, long cookie) throws IOException {
        c.request(0, RawNbdClient.CMD_READ, cookie, offset(cookie), LENGTH, null);
    }

    /** Reads replies for cookies {@code first..last} in that order, each a success with the data the controller put there. */
    private static void expectReplies(RawNbdClient c, long first, long last) throws IOException {
        for (long cookie = first; cookie <= last; cookie++) {
            RawNbdClient.Reply r = c.reply(LENGTH);
            assertThat(r.cookie()).as("reply in order of handling").isEqualTo(cookie);
            assertThat(r.error()).as("no error while paused or after: %s", r.message()).isZero();
            assertThat(r.data()).isEqualTo(GatedController.pattern(offset(cookie)));
        }
    }

    private static long offset(long cookie) {
        return cookie * 4096;
    }

    private static Long[] offsets(long firstCookie, long lastCookie) {
        List<Long> out = new ArrayList<>();
        for (long cookie = firstCookie; cookie <= lastCookie; cookie++) {
            out.add(offset(cookie));
        }
        return out.toArray(new Long[0]);
    }

    /** Records each read, thread-safely, until the test answers it; its admission is a gate the test flips. */
    private static final class GatedController implements Controller {

        record Call(long offset, ByteBuffer dst, CompletableFuture<Void> done) {
        }

        final AdmissionGate admission = new AdmissionGate();
        private final BlockingQueue<Call> arrived = new LinkedBlockingQueue<>();
        private final List<Call> all = new ArrayList<>();

        @Override
        public long size() {
            return SIZE;
        }

        @Override
        public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
            Call call = new Call(offset, dst, new CompletableFuture<>());
            synchronized (all) {
                all.add(call);
            }
            arrived.add(call);
            return call.done();
        }

        @Override
        public CompletableFuture<Void> write(long offset, io.netty.buffer.ByteBuf data, boolean fua) {
            return unsupported();
        }

        @Override
        public CompletableFuture<Void> writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly, boolean fua) {
            return unsupported();
        }

        @Override
        public CompletableFuture<Void> trim(long offset, long length, boolean fua) {
            return unsupported();
        }

        @Override
        public CompletableFuture<Void> flush() {
            return unsupported();
        }

        private static CompletableFuture<Void> unsupported() {
            return CompletableFuture.failedFuture(new UnsupportedOperationException("this test sends only reads"));
        }

        @Override
        public Admission admission() {
            return admission;
        }

        /** The next {@code n} calls, each waited for at most ten seconds. */
        List<Call> take(int n) throws InterruptedException {
            List<Call> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Call call = arrived.poll(10, TimeUnit.SECONDS);
                assertThat(call).as("request %d of %d reached the controller", i + 1, n).isNotNull();
                out.add(call);
            }
            return out;
        }

        void assertNothingArrives() throws InterruptedException {
            assertThat(arrived.poll(QUIET.toMillis(), TimeUnit.MILLISECONDS)).as("a request read while it should not be").isNull();
        }

        static void answer(Call call) {
            call.dst().duplicate().put(pattern(call.offset()));
            call.done().complete(null);
        }

        static byte[] pattern(long offset) {
            byte[] b = new byte[LENGTH];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) (offset / 4096 * 7 + i);
            }
            return b;
        }

        void answerAll() {
            synchronized (all) {
                all.stream().filter(c -> !c.done().isDone()).forEach(GatedController::answer);
            }
        }

        @Override
        public void close() {
        }
    }
}
