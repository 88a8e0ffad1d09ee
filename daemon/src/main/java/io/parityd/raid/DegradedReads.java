package io.parityd.raid;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Reads of chunks whose member cannot serve them: reconstructed from the survivors under the
 * stripe's lock, so that no write lands between reading the data and reading the parity (which
 * would tear the reconstruction). Each thread gets a {@link StripeImage} of scratch the first time
 * it reconstructs; a healthy array never creates one.
 */
final class DegradedReads {

    private final VolumeCore core;
    private final Layout layout;
    private final MemberSlots members;
    private final ThreadLocal<StripeImage> images;

    DegradedReads(VolumeCore core) {
        this.core = core;
        this.layout = core.layout;
        this.members = core.members;
        this.images = ThreadLocal.withInitial(() -> StripeImage.scratch(layout));
    }

    /**
     * Fills {@code dst[at..+len)} with columns {@code [col, col+len)} of data chunk
     * {@code dataIndex} of {@code stripe}.
     *
     * @throws IOException naming the stripe and failed slots if too few members are left
     */
    void read(ByteBuffer dst, int at, int len, long stripe, int dataIndex, int col) throws IOException {
        int member = layout.dataMember(stripe, dataIndex);
        locks().lock(stripe, stripe);
        try {
            for (int attempt = 0; ; attempt++) {
                members.checkRetries(attempt, stripe);
                if (members.usable(member, stripe)) {
                    StripeWriter.window(dst, at, len);
                    if (members.read(member, dst, layout.memberOffset(stripe, col))) {
                        return;
                    }
                    continue;
                }
                if (reconstruct(dst, at, len, stripe, dataIndex, col)) {
                    return;
                }
            }
        } finally {
            locks().unlock(stripe, stripe);
        }
    }

    /** One attempt; false if a survivor failed while being read (it is faulty now: try again). */
    private boolean reconstruct(ByteBuffer dst, int at, int len, long stripe, int dataIndex, int col)
            throws IOException {
        long lost = members.unusable(stripe);
        StripeImage image = images.get();
        long lostRoles = image.rolesOf(stripe, lost);
        long needed = image.needed(lostRoles);
        if (needed < 0) {
            throw Unrecoverable.stripe(layout, stripe, lost, core.redundancy);
        }
        if (!image.read(members, stripe, needed, col, len)) {
            return false;
        }
        image.recover(lostRoles, col, len, false);
        StripeWriter.window(dst, at, len);
        Parity.copy(dst, at, image.buffer(dataIndex), image.index(dataIndex, col), len);
        return true;
    }

    private StripeLocks locks() {
        return core.locks;
    }
}
