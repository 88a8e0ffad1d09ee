package io.parityd.raid;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Recovery's half of the {@link Preimage}: gives a degraded stripe that a crash interrupted
 * parity that matches its surviving data and the lost chunks' saved images, over the columns the
 * interrupted write changed. The stripe then holds, consistently, the surviving members' data
 * (old, new or mixed) and the lost chunks as they were before that write; redoing the journaled
 * requests afterwards brings every chunk, lost ones included, to its newest content.
 *
 * <p>A data chunk that is down now but not in the preimage cannot be restored (the member went
 * missing after the crash, a second fault): the caller counts such a stripe as unchecked.
 */
final class ParityRestore {

    private ParityRestore() {
    }

    /** Restores {@code p}'s columns under the stripe's lock; false if it cannot (see the class comment). */
    static boolean restore(VolumeCore core, Preimage p) throws IOException {
        Layout layout = core.layout;
        long stripe = p.stripe();
        int x = p.column();
        int len = p.length();
        int k = layout.dataChunks();
        if (stripe >= core.geometry.stripes() || x + len > core.chunk || p.lostData() >>> k != 0
                || layout.parityChunks() == 0) {
            throw new IOException("a preimage of stripe " + stripe + ", columns " + x + "+" + len + ", data roles "
                    + Long.toBinaryString(p.lostData()) + " does not fit " + core.geometry.name() + " (RAID-"
                    + layout.level() + ", " + core.geometry.stripes() + " stripes of " + k + " data chunks of "
                    + core.chunk + " bytes)");
        }
        StripeImage image = StripeImage.scratch(layout);
        core.lockForChange(stripe, stripe);
        try {
            long lostNow = image.rolesOf(stripe, core.members.unusable(stripe));
            long lostData = lostNow & image.dataMask();
            if ((lostData & ~p.lostData()) != 0) {
                return false;
            }
            if (!image.read(core.members, stripe, image.dataMask() & ~lostData, x, len)) {
                return false;
            }
            for (long r = lostData; r != 0; r &= r - 1) {
                int role = Long.numberOfTrailingZeros(r);
                ByteBuffer from = p.images().duplicate();
                from.position(from.position() + p.imageAt(role)).limit(from.position() + len);
                image.buffer(role).duplicate().position(image.index(role, x)).put(from);
            }
            boolean ok = true;
            if ((lostNow & (1L << k)) == 0) {
                image.computeP(image.buffer(k), image.index(k, x), x, len);
                ok = write(core, image, stripe, k, x, len);
            }
            if (layout.parityChunks() == 2 && (lostNow & (1L << (k + 1))) == 0) {
                image.computeQ(image.buffer(k + 1), image.index(k + 1, x), x, len);
                ok &= write(core, image, stripe, k + 1, x, len);
            }
            return ok;
        } finally {
            core.unlockAfterChange(stripe, stripe);
        }
    }

    private static boolean write(VolumeCore core, StripeImage image, long stripe, int role, int x, int len) {
        ByteBuffer b = image.buffer(role).duplicate();
        b.limit(image.index(role, x) + len).position(image.index(role, x));
        return core.members.write(core.layout.memberOfRole(stripe, role), b, core.layout.memberOffset(stripe, x));
    }
}
