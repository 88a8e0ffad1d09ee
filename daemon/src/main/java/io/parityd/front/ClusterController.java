package io.parityd.front;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.parityd.controller.Admission;
import io.parityd.controller.AdmissionGate;
import io.parityd.controller.Controller;
import io.parityd.controller.RequestFailedException;
import io.parityd.link.Command;
import io.parityd.link.LinkFormat;
import io.parityd.link.Reply;
import io.parityd.link.Request;
import io.parityd.nvram.WriteFlags;
import io.parityd.replication.ReplyStatus;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front's controller in HA mode (DESIGN.md "The write path (HA mode)", steps 1 and 5): numbers
 * each request, sends it to the primary alone (which passes its journal record on to the standby),
 * and completes the request when the primary answers. It
 * keeps every request, payload included (the NBD handler holds the buffer until then), until
 * that answer: when a new primary takes over, every unanswered request is sent to it again in
 * order, so clients see a stall, not an error. While there is no primary, the front stops reading
 * from clients ({@link #admission()}).
 *
 * <p>Order: numbering and sending happen under one lock, so the primary's link carries requests in
 * the front's order, which is the order both controllers journal them in.
 */
public final class ClusterController implements Controller {

    private static final Logger log = LoggerFactory.getLogger(ClusterController.class);

    /** Where requests go: one controller's link. */
    public interface Target {
        /** Sends {@code r}, taking ownership of it. */
        void send(Request r);

        String name();
    }

    /**
     * One request the front has not had an answer for. A write's {@code data} is a reference of
     * this map's own to the client's payload, released when the entry leaves the map; every
     * send takes one more for the link ({@link #request}), which the link releases once it has
     * written it. The client's buffer stays valid for as long as any of them is held, however
     * late a slow link gets to it.
     */
    private record Outstanding(long seq, Command command, int flags, long offset, long length, ByteBuf data,
                               CompletableFuture<Void> done, CompletableFuture<ByteBuf> read) {
        /** A request for one link, which owns it (and its reference to the payload). */
        Request request() {
            ByteBuf payload = data == null ? Unpooled.EMPTY_BUFFER : data.retainedDuplicate();
            return new Request(seq, command, flags, offset, length, payload);
        }

        /** The entry left the map: its own reference to the payload goes. */
        void release() {
            if (data != null) {
                data.release();
            }
        }

        void fail(Throwable why) {
            if (read != null) {
                read.completeExceptionally(why);
            } else {
                done.completeExceptionally(why);
            }
        }
    }

    private volatile long size;
    private final Object lock = new Object();
    private final ConcurrentSkipListMap<Long, Outstanding> outstanding = new ConcurrentSkipListMap<>();
    private final AdmissionGate admission = new AdmissionGate();
    private long nextSeq;
    private Target primary;

    /**
     * @param size     the volume's size in bytes
     * @param firstSeq the first number to give: above any the controllers already saw (a restarted
     *                 front learns it from their Hellos)
     */
    public ClusterController(long size, long firstSeq) {
        this.size = size;
        this.nextSeq = firstSeq;
        admission.pause("no primary controller yet");
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public Admission admission() {
        return admission;
    }

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        ByteBuffer target = dst.duplicate();
        return read(offset, dst.remaining(), null).thenAccept(data -> {
            try {
                data.getBytes(data.readerIndex(), target);
            } finally {
                data.release();
            }
        });
    }

    /**
     * The primary's answer itself, as it came off the link: the front sends it on to the client
     * without copying it (issue 15). The caller owns the buffer.
     */
    @Override
    public CompletableFuture<ByteBuf> read(long offset, int length, ByteBufAllocator alloc) {
        CompletableFuture<ByteBuf> read = new CompletableFuture<>();
        enqueue(Command.READ, 0, offset, length, null, null, read);
        return read;
    }

    @Override
    public CompletableFuture<Void> write(long offset, ByteBuf data, boolean fua) {
        return submit(Command.WRITE, fua ? WriteFlags.FUA : 0, offset, data.readableBytes(), data);
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly,
                                               boolean fua) {
        int flags = WriteFlags.of(fua, mayDeallocate, fastOnly);
        return submit(Command.WRITE_ZEROES, flags, offset, length, null);
    }

    @Override
    public CompletableFuture<Void> trim(long offset, long length, boolean fua) {
        return submit(Command.TRIM, fua ? WriteFlags.FUA : 0, offset, length, null);
    }

    @Override
    public CompletableFuture<Void> flush() {
        return submit(Command.FLUSH, 0, 0, 0, null);
    }

    private CompletableFuture<Void> submit(Command command, int flags, long offset, long length, ByteBuf data) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        enqueue(command, flags, offset, length, data, done, null);
        return done;
    }

    private void enqueue(Command command, int flags, long offset, long length, ByteBuf data, CompletableFuture<Void> done,
                         CompletableFuture<ByteBuf> read) {
        ByteBuf held = data == null ? null : data.retainedDuplicate();
        synchronized (lock) {
            long seq = nextSeq++;
            Outstanding o = new Outstanding(seq, command, flags, offset, length, held, done, read);
            outstanding.put(seq, o);
            if (primary != null) {
                primary.send(o.request());
            }
        }
    }

    /** The volume's size, once a controller said it (before the NBD server starts). */
    void sized(long bytes) {
        this.size = bytes;
    }

    /** Numbers from here on are above {@code seq}: a controller already saw it (a restarted front). */
    void seqAbove(long seq) {
        synchronized (lock) {
            nextSeq = Math.max(nextSeq, seq + 1);
        }
    }

    /** An answer from {@code from} (any thread). Only the primary's count; NOT_PRIMARY and SHUTTING_DOWN wait for the next one. */
    public void answered(Target from, Reply r) {
        try {
            Outstanding o;
            synchronized (lock) {
                if (from != primary) {
                    return;
                }
                if (r.status() == ReplyStatus.NOT_PRIMARY || r.status() == ReplyStatus.SHUTTING_DOWN) {
                    return; // the request stays; the next primary gets it
                }
                o = outstanding.remove(r.seq());
            }
            if (o == null) {
                return; // answered already (a resend crossed the first answer)
            }
            o.release();
            if (r.status() != ReplyStatus.OK) {
                o.fail(ReplyStatus.failure(r.status(), r.detail()));
                return;
            }
            if (o.read() != null) {
                if (r.data().readableBytes() != o.length()) {
                    o.fail(new RequestFailedException(RequestFailedException.Reason.IO_ERROR,
                            "controller " + from.name() + " answered a read of " + o.length() + " bytes with "
                                    + r.data().readableBytes()));
                    return;
                }
                ByteBuf handed = r.data().retainedSlice(); // the caller's; the reply's own reference goes below
                if (!o.read().complete(handed)) {
                    handed.release();
                }
                return;
            }
            o.done().complete(null);
        } finally {
            r.release();
        }
    }

    /**
     * {@code p} serves from now on (a promotion, or a restarted front adopting the primary it
     * found); every unanswered request goes to it, in order. Returns how many.
     */
    public int primaryIs(Target p) {
        int resent;
        synchronized (lock) {
            primary = p;
            resent = 0;
            for (Outstanding o : outstanding.values()) {
                p.send(o.request());
                resent++;
            }
        }
        if (resent > 0) {
            log.info("front: resent {} unanswered requests to primary {}", resent, p.name());
        }
        admission.resume();
        return resent;
    }

    /** No primary (it died, or is being replaced): requests wait, and the front stops reading from clients. */
    public void noPrimary(String why) {
        synchronized (lock) {
            primary = null;
        }
        admission.pause(why);
    }

    /** The next seq this front gives. */
    public long nextSeq() {
        synchronized (lock) {
            return nextSeq;
        }
    }

    /** Requests not answered yet. */
    public int outstanding() {
        return outstanding.size();
    }

    /** Fails every unanswered request (the front stops). */
    @Override
    public void close() {
        List<Outstanding> left;
        synchronized (lock) {
            left = new ArrayList<>(outstanding.values());
            outstanding.clear();
            primary = null;
        }
        RequestFailedException stopping = new RequestFailedException(RequestFailedException.Reason.SHUTTING_DOWN,
                "the front is stopping");
        left.forEach(o -> {
            o.release();
            o.fail(stopping);
        });
    }

    /** For tests: the seqs still unanswered. */
    List<Long> unanswered() {
        return new ArrayList<>(((Map<Long, Outstanding>) outstanding).keySet());
    }
}
