package io.parityd.front;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.parityd.controller.RequestFailedException;
import io.parityd.protocol.CommandFlag;
import io.parityd.protocol.CommandType;
import io.parityd.protocol.DoneReply;
import io.parityd.protocol.ErrorReply;
import io.parityd.protocol.ExportInfo;
import io.parityd.protocol.NbdError;
import io.parityd.protocol.NbdRequest;
import io.parityd.protocol.ReadReply;
import io.parityd.protocol.Session;
import io.parityd.protocol.TransmissionFlag;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The transmission handler on an {@link EmbeddedChannel} with a controller the test completes by
 * hand: replies leave in completion order with the right cookies, payloads are held exactly
 * until the controller is done, a busy connection stops reading, and DISC and shutdown close
 * only once nothing is in flight.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.parityd.LeakCheck.class)
class TransmissionHandlerTest {

    private static final long SIZE = 1L << 30;

    private final ManualController controller = new ManualController(SIZE);
    private EmbeddedChannel channel;

    private EmbeddedChannel open(FrontLimits limits) {
        VolumeExport export = new VolumeExport("vol", "test volume", SIZE);
        ExportInfo info = export.info();
        int flags = TransmissionFlag.HAS_FLAGS.bit();
        for (TransmissionFlag f : info.flags()) {
            flags |= f.bit();
        }
        channel = new EmbeddedChannel(new TransmissionHandler(new Session(info, false, flags, true), controller, limits));
        return channel;
    }

    @AfterEach
    void finish() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void shouldReplyInCompletionOrderMatchedByCookie() {
        open(FrontLimits.DEFAULT);
        channel.writeInbound(request(CommandType.READ, 0, 1, 0, 4096));
        channel.writeInbound(request(CommandType.READ, 0, 2, 8192, 512));
        channel.writeInbound(request(CommandType.FLUSH, 0, 3, 0, 0));
        assertThat(controller.calls).extracting(ManualController.Call::kind).containsExactly("read", "read", "flush");

        controller.calls.get(2).done().complete(null);
        fill(controller.calls.get(1), "second");
        controller.calls.get(1).done().complete(null);
        fill(controller.calls.get(0), "first");
        controller.calls.get(0).done().complete(null);
        channel.runPendingTasks();

        List<Object> replies = drain();
        assertThat(replies).hasSize(3);
        assertThat(((DoneReply) replies.get(0)).cookie()).isEqualTo(3);
        ReadReply second = (ReadReply) replies.get(1);
        ReadReply first = (ReadReply) replies.get(2);
        assertThat(second.cookie()).isEqualTo(2);
        assertThat(second.content().toString(0, 6, StandardCharsets.US_ASCII)).isEqualTo("second");
        assertThat(second.content().readableBytes()).isEqualTo(512);
        assertThat(first.cookie()).isEqualTo(1);
        assertThat(first.offset()).isEqualTo(0);
        assertThat(first.content().toString(0, 5, StandardCharsets.US_ASCII)).isEqualTo("first");
        replies.forEach(ReferenceCountUtil::release);
    }

    @Test
    void shouldHoldWritePayloadUntilTheControllerIsDone() {
        open(FrontLimits.DEFAULT);
        ByteBuf payload = Unpooled.directBuffer(4096).writeZero(4096);
        channel.writeInbound(new NbdRequest(CommandType.WRITE.code(), CommandFlag.FUA.bit(), 7, 4096, 4096, payload, false));
        ManualController.Call call = controller.calls.get(0);
        assertThat(call.kind()).isEqualTo("write");
        assertThat(call.flag()).as("FUA passed on").isTrue();
        assertThat(call.offset()).isEqualTo(4096);
        assertThat(payload.refCnt()).as("payload held while the write runs").isEqualTo(1);

        call.done().complete(null);
        channel.runPendingTasks();

        assertThat(payload.refCnt()).as("payload released once done").isZero();
        assertThat(((DoneReply) channel.readOutbound()).cookie()).isEqualTo(7);
    }

    @Test
    void shouldRefuseInvalidRequestsWithoutCallingTheController() {
        open(FrontLimits.DEFAULT);
        channel.writeInbound(request(CommandType.READ, 0, 1, SIZE, 4096));
        channel.writeInbound(request(CommandType.READ, 1 << 9, 2, 0, 4096));
        ByteBuf payload = Unpooled.buffer(100).writeZero(100);
        channel.writeInbound(new NbdRequest(CommandType.WRITE.code(), 0, 3, 0, 100, payload, false));

        assertThat(controller.calls).isEmpty();
        assertThat(payload.refCnt()).isZero();
        List<Object> replies = drain();
        assertThat(replies).extracting(r -> ((ErrorReply) r).error()).containsExactly(NbdError.EINVAL, NbdError.EINVAL, NbdError.EINVAL);
        assertThat(((ErrorReply) replies.get(0)).message()).contains("past the export size");
    }

    @Test
    void shouldMapControllerFailuresToTheSpecsErrors() {
        open(FrontLimits.DEFAULT);
        channel.writeInbound(request(CommandType.WRITE_ZEROES, CommandFlag.FAST_ZERO.bit(), 1, 0, 1 << 20));
        channel.writeInbound(request(CommandType.TRIM, 0, 2, 0, 1 << 20));
        channel.writeInbound(request(CommandType.FLUSH, 0, 3, 0, 0));
        assertThat(controller.calls).extracting(ManualController.Call::kind).containsExactly("zero-fast", "trim", "flush");
        controller.calls.get(0).done().completeExceptionally(new RequestFailedException(RequestFailedException.Reason.NOT_FAST, "slow"));
        controller.calls.get(1).done().completeExceptionally(new RequestFailedException(RequestFailedException.Reason.NO_SPACE, "full"));
        controller.calls.get(2).done().completeExceptionally(new RequestFailedException(RequestFailedException.Reason.IO_ERROR, "bad disk"));
        channel.runPendingTasks();

        assertThat(drain()).extracting(r -> ((ErrorReply) r).error())
                .containsExactly(NbdError.ENOTSUP, NbdError.ENOSPC, NbdError.EIO);
        assertThat(channel.isActive()).as("errors do not close the connection").isTrue();
    }

    @Test
    void shouldStopReadingWhenTooMuchIsInFlightAndResumeUnderHalf() {
        open(new FrontLimits(VolumeExport.BLOCK_SIZES.maximum(), 4));
        for (int i = 0; i < 4; i++) {
            channel.writeInbound(request(CommandType.READ, 0, i, 0, 4096));
        }
        assertThat(channel.config().isAutoRead()).as("paused at the limit").isFalse();
        controller.calls.get(0).done().complete(null);
        channel.runPendingTasks();
        assertThat(channel.config().isAutoRead()).as("three still in flight: over half").isFalse();
        controller.calls.get(1).done().complete(null);
        channel.runPendingTasks();
        assertThat(channel.config().isAutoRead()).as("two in flight: resumed").isTrue();
        controller.calls.forEach(c -> c.done().complete(null));
        channel.runPendingTasks();
        drain().forEach(ReferenceCountUtil::release);
    }

    @Test
    void shouldKeepReadingOffUntilBothAdmissionAndLimitsAllow() {
        open(new FrontLimits(VolumeExport.BLOCK_SIZES.maximum(), 4));
        for (int i = 0; i < 4; i++) {
            channel.writeInbound(request(CommandType.READ, 0, i, 0, 4096));
        }
        assertThat(channel.config().isAutoRead()).as("paused at the limit").isFalse();

        admissionChanges(false);
        admissionChanges(true);
        assertThat(channel.config().isAutoRead()).as("admission opening does not undo the limit").isFalse();

        admissionChanges(false);
        complete(0);
        complete(1);
        assertThat(channel.config().isAutoRead()).as("back under half, but admission is closed").isFalse();

        admissionChanges(true);
        assertThat(channel.config().isAutoRead()).as("both allow").isTrue();
        complete(2);
        complete(3);
        drain().forEach(ReferenceCountUtil::release);
    }

    @Test
    void shouldHandOverRequestsAlreadyReadWhileAdmissionIsClosed() {
        open(FrontLimits.DEFAULT);
        admissionChanges(false);
        assertThat(channel.config().isAutoRead()).isFalse();
        channel.writeInbound(request(CommandType.FLUSH, 0, 1, 0, 0));
        assertThat(controller.calls).as("decoded before the pause took effect: still served").hasSize(1);
        complete(0);
        assertThat(((DoneReply) channel.readOutbound()).cookie()).isEqualTo(1);
        assertThat(channel.config().isAutoRead()).as("finishing a request does not resume reading").isFalse();
    }

    @Test
    void shouldNotReadAtAllWhenTransmissionStartsWhileAdmissionIsClosed() {
        controller.admission.pause("NVRAM full");
        open(FrontLimits.DEFAULT);
        assertThat(channel.config().isAutoRead()).isFalse();
        controller.admission.resume();
        channel.pipeline().fireUserEventTriggered(TransmissionHandler.ADMISSION_CHANGED);
        assertThat(channel.config().isAutoRead()).isTrue();
    }

    @Test
    void shouldDropADecodersExplicitReadWhileAdmissionIsClosed() {
        // ByteToMessageDecoder calls ctx.read() when autoRead is off and a read ended mid-request.
        open(FrontLimits.DEFAULT);
        ReadCounter reads = new ReadCounter();
        channel.pipeline().addFirst(reads); // between the switch and the socket: sees what gets through
        admissionChanges(false);
        channel.read();
        assertThat(reads.count).as("read while closed").isZero();
        admissionChanges(true);
        assertThat(reads.count).as("turning autoRead back on issues one read").isEqualTo(1);
        channel.read();
        assertThat(reads.count).isEqualTo(2);
    }

    @Test
    void shouldCloseAfterDiscOnceInFlightRequestsFinish() {
        open(FrontLimits.DEFAULT);
        channel.writeInbound(request(CommandType.FLUSH, 0, 1, 0, 0));
        channel.writeInbound(request(CommandType.DISC, 0, 2, 0, 0));
        channel.writeInbound(request(CommandType.READ, 0, 3, 0, 512));
        assertThat(controller.calls).as("nothing after DISC is executed").hasSize(1);
        assertThat(channel.isOpen()).isTrue();

        controller.calls.get(0).done().complete(null);
        channel.runPendingTasks();

        assertThat(((DoneReply) channel.readOutbound()).cookie()).isEqualTo(1);
        assertThat(channel.isOpen()).as("closed once the flush was answered").isFalse();
    }

    @Test
    void shouldAnswerEshutdownWhileDrainingAndCloseWhenIdle() {
        open(FrontLimits.DEFAULT);
        channel.writeInbound(request(CommandType.READ, 0, 1, 0, 512));
        channel.pipeline().fireUserEventTriggered(TransmissionHandler.DRAIN);
        channel.writeInbound(request(CommandType.READ, 0, 2, 0, 512));
        assertThat(controller.calls).hasSize(1);
        ErrorReply refused = channel.readOutbound();
        assertThat(refused.cookie()).isEqualTo(2);
        assertThat(refused.error()).isEqualTo(NbdError.ESHUTDOWN);
        assertThat(channel.isOpen()).isTrue();

        controller.calls.get(0).done().complete(null);
        channel.runPendingTasks();

        ReadReply answered = channel.readOutbound();
        assertThat(answered.cookie()).isEqualTo(1);
        answered.release();
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void shouldAnswerZeroLengthRequestsWithoutTheController() {
        open(FrontLimits.DEFAULT);
        channel.writeInbound(request(CommandType.READ, 0, 1, 0, 0));
        channel.writeInbound(new NbdRequest(CommandType.WRITE.code(), 0, 2, 0, 0, Unpooled.EMPTY_BUFFER, false));
        channel.writeInbound(request(CommandType.TRIM, 0, 3, 0, 0));
        channel.writeInbound(request(CommandType.WRITE_ZEROES, 0, 4, 0, 0));
        assertThat(controller.calls).isEmpty();
        List<Object> replies = drain();
        assertThat(replies).extracting(r -> ((io.parityd.protocol.NbdReply) r).cookie()).containsExactly(1L, 2L, 3L, 4L);
        replies.forEach(ReferenceCountUtil::release);
    }

    @Test
    void shouldReleaseReadBufferWhenTheReadFails() {
        open(FrontLimits.DEFAULT);
        channel.writeInbound(request(CommandType.READ, 0, 1, 0, 4096));
        controller.calls.get(0).done().completeExceptionally(new RequestFailedException(RequestFailedException.Reason.IO_ERROR, "x"));
        channel.runPendingTasks();
        ErrorReply reply = channel.readOutbound();
        assertThat(reply.error()).isEqualTo(NbdError.EIO);
        // Paranoid leak detection (surefire) reports the read buffer if it was not released.
    }

    /** Flips the controller's gate and delivers the event the server fires on every connection. */
    private void admissionChanges(boolean open) {
        if (open) {
            controller.admission.resume();
        } else {
            controller.admission.pause("test");
        }
        channel.pipeline().fireUserEventTriggered(TransmissionHandler.ADMISSION_CHANGED);
    }

    private void complete(int call) {
        controller.calls.get(call).done().complete(null);
        channel.runPendingTasks();
    }

    /** Counts read() calls that reach it. */
    private static final class ReadCounter extends ChannelOutboundHandlerAdapter {
        int count;

        @Override
        public void read(ChannelHandlerContext ctx) {
            count++;
            ctx.read();
        }
    }

    private static NbdRequest request(CommandType type, int flags, long cookie, long offset, long length) {
        return new NbdRequest(type.code(), flags, cookie, offset, length);
    }

    private static void fill(ManualController.Call call, String text) {
        call.buffer().duplicate().put(text.getBytes(StandardCharsets.US_ASCII));
    }

    private List<Object> drain() {
        List<Object> out = new ArrayList<>();
        Object o;
        while ((o = channel.readOutbound()) != null) {
            out.add(o);
        }
        return out;
    }
}
