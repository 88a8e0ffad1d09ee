package io.parityd.replication;

import io.netty.channel.Channel;
import io.parityd.link.Finished;
import java.util.Arrays;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The primary's {@link Finished} stream to its standby: I/O threads hand in the front's seq of
 * each write they finished, and the standby's link sends them in one message per turn of its
 * event loop, so a busy primary adds a few bytes per write and one frame per batch, not one frame
 * per write.
 *
 * <p><b>Order.</b> A write's record was handed to the same link (from whichever thread) before
 * the write could touch the members, so its Finished is queued on the event loop after it; Netty
 * runs a loop's tasks in the order they were given. A seq that is lost (no standby at that moment,
 * a batch that overflowed, a link that closed) is never wrong, only a resync the promotion does
 * that it could have skipped.
 */
public final class FinishedBatcher implements LongConsumer {

    private final Supplier<Channel> standby;
    private long[] seqs = new long[256];
    private int count;
    private boolean scheduled;
    private Channel scheduledOn;

    /** @param standby the current standby's link, or null when there is none */
    public FinishedBatcher(Supplier<Channel> standby) {
        this.standby = standby;
    }

    @Override
    public void accept(long seq) {
        Channel link = standby.get();
        if (link == null) {
            return;
        }
        boolean schedule;
        synchronized (this) {
            if (count == Finished.MAX_SEQS) {
                return; // the link's loop is far behind: drop, it only costs a resync
            }
            if (count == seqs.length) {
                seqs = Arrays.copyOf(seqs, Math.min(seqs.length * 2, Finished.MAX_SEQS));
            }
            seqs[count++] = seq;
            schedule = !scheduled;
            if (schedule) {
                scheduled = true;
                scheduledOn = link;
            }
        }
        if (schedule) {
            link.eventLoop().execute(this::send);
        }
    }

    /** On the link's event loop: everything handed in so far, in one message. */
    private void send() {
        long[] batch;
        Channel link;
        synchronized (this) {
            batch = Arrays.copyOf(seqs, count);
            count = 0;
            scheduled = false;
            link = scheduledOn;
            scheduledOn = null;
        }
        if (batch.length > 0 && link.isActive()) {
            link.writeAndFlush(new Finished(batch));
        }
    }
}
