package io.parityd.raid;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Rebuild of a striped level's slot (RAID-4/5/6): each surviving member's part of the batch is
 * read in one sequential request into its own buffer (on every member, consecutive stripes'
 * chunks are adjacent), then the lost slot's chunks are computed. With one slot lost on RAID-4/5
 * that is the XOR of all the others whatever role each chunk plays, one pass per member over the
 * whole batch; otherwise stripe by stripe through a {@link StripeImage} bound to the batch
 * buffers, which covers every one- and two-loss case of RAID-6.
 *
 * <p>The buffers ({@code members × batch}) are allocated on the first batch and reused; the
 * rebuild thread is the only user.
 */
final class StripedRebuild implements RebuildSource {

    private final VolumeCore core;
    private final Layout layout;
    private final MemberSlots members;
    private final StripeImage image;
    private final ByteBuffer[] buffers;
    private final int chunk;

    StripedRebuild(VolumeCore core) {
        this.core = core;
        this.layout = core.layout;
        this.members = core.members;
        this.image = new StripeImage(layout);
        this.buffers = new ByteBuffer[members.count()];
        this.chunk = core.chunk;
    }

    @Override
    public boolean fill(int slot, long from, long to, ByteBuffer target) throws IOException {
        // Other slots' rebuild positions lie outside [from, to) while we hold its locks, so the
        // set of serving members is the same for every stripe of the batch.
        long lost = members.unusable(from) | 1L << slot;
        if (Long.bitCount(lost) > core.redundancy) {
            throw Unrecoverable.stripes(layout.level(), from, to - 1, lost, core.redundancy);
        }
        int length = (int) (to - from) * chunk;
        long offset = layout.memberOffset(from, 0);
        for (int m = 0; m < buffers.length; m++) {
            ByteBuffer b = m == slot ? target : buffer(m, target.capacity());
            b.clear().limit(length);
            if ((lost & (1L << m)) == 0 && !members.read(m, b, offset)) {
                return false;
            }
            b.clear().limit(length);
        }
        if (Long.bitCount(lost) == 1 && layout.parityChunks() == 1) {
            xorOthers(slot, target, length);
        } else {
            recoverEachStripe(slot, from, to, lost, target);
        }
        return true;
    }

    private ByteBuffer buffer(int member, int capacity) {
        if (buffers[member] == null || buffers[member].capacity() < capacity) {
            buffers[member] = StripeWriter.alignedDirect(capacity);
        }
        return buffers[member];
    }

    private void xorOthers(int slot, ByteBuffer target, int length) {
        boolean first = true;
        for (int m = 0; m < buffers.length; m++) {
            if (m == slot) {
                continue;
            }
            if (first) {
                Parity.copy(target, 0, buffers[m], 0, length);
                first = false;
            } else {
                Parity.xorInto(target, 0, buffers[m], 0, length);
            }
        }
    }

    private void recoverEachStripe(int slot, long from, long to, long lost, ByteBuffer target) {
        for (long s = from; s < to; s++) {
            int column0 = (int) (s - from) * chunk;
            for (int role = 0; role < layout.roles(); role++) {
                int m = layout.memberOfRole(s, role);
                image.bind(role, m == slot ? target : buffers[m], column0);
            }
            image.recover(image.rolesOf(s, lost), 0, chunk, true);
        }
    }
}
