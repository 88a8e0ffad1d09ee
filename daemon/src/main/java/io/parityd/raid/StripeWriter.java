package io.parityd.raid;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writes one stripe's worth of a request and keeps its parity right, for RAID-0/4/5/6, healthy
 * or degraded (DESIGN.md "RAID", "The write path" step 4). One instance per thread, reused for
 * every request: it owns that thread's scratch (P, Q for RAID-6, and old data read back), so the
 * write path allocates nothing; a chunk per role more ({@link StripeImage}) arrives only the first
 * time the thread must reconstruct.
 *
 * <p>A full stripe computes P and Q from the new data alone and reads nothing. A partial stripe
 * splits its columns (byte positions within a chunk) at the write's start and end offsets in the
 * chunk, so that within each segment the same chunks are written; each segment then takes the
 * cheapest feasible method that its {@link StripePlan} chooses: read-modify-write,
 * reconstruct-write, or a full reconstruction first.
 *
 * <p>Two phases per stripe. The <em>read phase</em> reads everything and computes the new
 * parity; if a read fails, that member is now faulty and the stripe starts over with the new set
 * of failed slots (nothing was written yet, so that is safe). The <em>write phase</em> writes data
 * and parity; a failing member is marked faulty and the other writes still go ahead, which leaves
 * the survivors consistent: a lost chunk is reconstructable from them, with its new contents.
 * Degraded: a written chunk on a failed member is not written but folded into parity; parity on a
 * failed member is neither read nor written. Beyond the level's redundancy, a write that would
 * have to land on a failed member fails before anything of its stripe is written.
 *
 * <p>A {@code null} source means "write zeroes": data goes to the members' {@code writeZeroes}
 * and counts as zero in the parity. The caller holds the stripe's lock. Confined to its thread.
 */
final class StripeWriter {

    private final MemberSlots members;
    private final VolumeCore core;
    private final Layout layout;
    private final int chunk;
    private final int k;
    private final boolean hasP;
    private final boolean hasQ;
    private final StripePlan plan;
    private final ByteBuffer p;
    private final ByteBuffer q;
    private final ByteBuffer old;
    private StripeImage image;

    /** Segment boundaries {@code 0 <= c1 <= c2 <= chunk} of the stripe being written. */
    private final int[] cuts = new int[4];

    // The stripe in progress; set by write(), read by the helpers below.
    private ByteBuffer src;
    private int srcLimit;
    private int srcBase;
    private long stripe;
    private int firstChunk;
    private int lastChunk;
    private int startCol;
    private int endCol;
    private boolean mayDeallocate;

    StripeWriter(VolumeCore core) {
        this.core = core;
        this.members = core.members;
        this.layout = core.layout;
        this.chunk = layout.chunkSize();
        this.k = layout.dataChunks();
        this.hasP = layout.parityChunks() >= 1;
        this.hasQ = layout.parityChunks() == 2;
        this.plan = new StripePlan(layout, core.redundancy);
        this.p = hasP ? alignedDirect(chunk) : null;
        this.q = hasQ ? alignedDirect(chunk) : null;
        this.old = hasP ? alignedDirect(chunk) : null;
    }

    /** Direct memory one instance reserves up front: its chunks, each with up to 4 KiB alignment slack. */
    static long scratchBytes(int chunkSize, int parityChunks) {
        return parityChunks == 0 ? 0 : (2L + parityChunks - 1) * (chunkSize + 4096);
    }

    /** Slots skipped since the last call, and forgets them. */
    long takeSkipped() {
        return plan.takeSkipped();
    }

    /**
     * Writes stripe-relative bytes {@code [from, to)} of {@code stripe}, taken from
     * {@code src[srcIndex..)} (or zeroes if {@code src} is null), and their parity.
     *
     * @return bit mask of the members written, for a following FUA flush
     * @throws IOException if the data cannot be stored: the stripe lost more members than the
     *                     level carries and this write needed one of them
     */
    long write(ByteBuffer src, int srcIndex, long stripe, int from, int to, boolean mayDeallocate)
            throws IOException {
        this.src = src;
        this.srcLimit = src == null ? 0 : src.limit();
        this.srcBase = srcIndex - from;
        this.stripe = stripe;
        this.firstChunk = from / chunk;
        this.lastChunk = (to - 1) / chunk;
        this.startCol = from - firstChunk * chunk;
        this.endCol = to - lastChunk * chunk;
        this.mayDeallocate = mayDeallocate;
        boolean full = from == 0 && to == k * chunk;
        try {
            for (int attempt = 0; ; attempt++) {
                members.checkRetries(attempt, stripe);
                plan.snapshot(stripe, members.unusable(stripe));
                if (full ? prepareFull() && saveFullImage() : preparePartial() && savePreimage()) {
                    return commit(full);
                }
            }
        } finally {
            this.src = null;
        }
    }

    // --- read phase -------------------------------------------------------------------------------

    private boolean prepareFull() throws IOException {
        plan.checkFullWrite();
        if (src == null || !hasP) {
            return true;
        }
        int last = k - 1;
        int at = srcBase + last * chunk;
        Parity.copy(p, 0, src, at, chunk);
        if (hasQ) {
            Parity.copy(q, 0, src, at, chunk);
            for (int d = last - 1; d >= 0; d--) {
                QSyndrome.pqStep(p, 0, q, 0, src, srcBase + d * chunk, chunk);
            }
        } else {
            for (int d = last - 1; d >= 0; d--) {
                Parity.xorInto(p, 0, src, srcBase + d * chunk, chunk);
            }
        }
        return true;
    }

    private boolean preparePartial() throws IOException {
        splitColumns();
        for (int i = 0; i < 3; i++) {
            int x0 = cuts[i];
            int x1 = cuts[i + 1];
            long written = x0 < x1 ? writtenMask(x0) : 0;
            if (written == 0) {
                continue;
            }
            boolean ok = switch (plan.choose(written)) {
                case StripePlan.RMW -> readModify(x0, x1 - x0, written);
                case StripePlan.RCW -> reconstructWrite(x0, x1 - x0, written, null);
                case StripePlan.RECONSTRUCT -> reconstructFirst(x0, x1 - x0, written);
                default -> true;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Columns [0, c1), [c1, c2), [c2, chunk): within each, the written set is constant. */
    private void splitColumns() {
        cuts[0] = 0;
        cuts[1] = Math.min(startCol, endCol);
        cuts[2] = Math.max(startCol, endCol);
        cuts[3] = chunk;
    }

    /** Data chunks written at column {@code x}, as a bit mask by data index. */
    private long writtenMask(int x) {
        long mask = 0;
        for (int d = firstChunk; d <= lastChunk; d++) {
            if ((d != firstChunk || x >= startCol) && (d != lastChunk || x < endCol)) {
                mask |= 1L << d;
            }
        }
        return mask;
    }

    /** P' = P ^ Dold ^ Dnew and Q' = Q ^ gᵈ(Dold ^ Dnew) over [x, x+len), for the parity still alive. */
    private boolean readModify(int x, int len, long written) {
        boolean pAlive = plan.pAlive();
        boolean qAlive = plan.qAlive();
        long off = layout.memberOffset(stripe, x);
        if (pAlive && !readInto(p, layout.parityMember(stripe), x, len, off)) {
            return false;
        }
        if (qAlive && !readInto(q, layout.qMember(stripe), x, len, off)) {
            return false;
        }
        for (long w = written; w != 0; w &= w - 1) {
            int d = Long.numberOfTrailingZeros(w);
            if (!readInto(old, layout.dataMember(stripe, d), x, len, off)) {
                return false;
            }
            int at = srcBase + d * chunk + x;
            if (pAlive) {
                if (src == null) {
                    Parity.xorInto(p, x, old, x, len);
                } else {
                    Parity.update(p, x, old, x, src, at, len);
                }
            }
            if (qAlive) {
                if (src == null) {
                    QSyndrome.mulXorInto(q, x, old, x, len, GaloisField.pow2(d));
                } else {
                    QSyndrome.update(q, x, old, x, src, at, len, d);
                }
            }
        }
        return true;
    }

    /**
     * P and Q from all data over [x, x+len), highest index first (Horner): new data where
     * written, else old data from {@code image} if given, else read from its member.
     */
    private boolean reconstructWrite(int x, int len, long written, StripeImage image) {
        long off = layout.memberOffset(stripe, x);
        Parity.clear(p, x, len);
        if (hasQ) {
            Parity.clear(q, x, len);
        }
        for (int d = k - 1; d >= 0; d--) {
            ByteBuffer data;
            int at;
            if ((written & (1L << d)) != 0) {
                if (src == null) {
                    if (hasQ) {
                        QSyndrome.times2(q, x, len);
                    }
                    continue;
                }
                data = src;
                at = srcBase + d * chunk + x;
            } else if (image != null) {
                data = image.buffer(d);
                at = image.index(d, x);
            } else {
                if (!readInto(old, layout.dataMember(stripe, d), x, len, off)) {
                    return false;
                }
                data = old;
                at = x;
            }
            if (hasQ) {
                QSyndrome.pqStep(p, x, q, x, data, at, len);
            } else {
                Parity.xorInto(p, x, data, at, len);
            }
        }
        return true;
    }

    /**
     * RAID-6 with a written and an unwritten chunk both lost: read what survives, recover the old
     * contents of both from P and Q, then compute the new parity as reconstruct-write would.
     */
    private boolean reconstructFirst(int x, int len, long written) {
        if (image == null) {
            image = StripeImage.scratch(layout);
        }
        long lostRoles = image.rolesOf(stripe, plan.lost());
        if (!image.read(members, stripe, image.needed(lostRoles), x, len)) {
            return false;
        }
        image.recover(lostRoles, x, len, false);
        return reconstructWrite(x, len, written, image);
    }

    /**
     * A full-stripe write of a stripe with a data chunk at risk: the image of the lost chunks is
     * simply this write's bytes for them (no read), saved for the same reason as a partial
     * write's ({@link #savePreimage}): with a commands journal nothing is redone, and a torn
     * full-stripe write would otherwise leave the lost chunk as garbage, neither old nor new.
     */
    private boolean saveFullImage() throws IOException {
        PreimageLog log = core.preimages;
        if (log == PreimageLog.NONE || !hasP) {
            return true;
        }
        long atRisk = members.lostAfterCrash(stripe);
        if (atRisk == 0) {
            return true;
        }
        if (image == null) {
            image = StripeImage.scratch(layout);
        }
        long lostData = image.rolesOf(stripe, atRisk) & image.dataMask();
        if (lostData == 0) {
            return true;
        }
        ByteBuffer images = ByteBuffer.allocate(Long.bitCount(lostData) * chunk);
        for (long r = lostData; r != 0; r &= r - 1) {
            int role = Long.numberOfTrailingZeros(r);
            if (src == null) {
                images.position(images.position() + chunk); // zeroes
            } else {
                images.put(src.duplicate().limit(srcBase + role * chunk + chunk).position(srcBase + role * chunk));
            }
        }
        log.save(new Preimage(stripe, 0, chunk, lostData, images.flip()));
        return true;
    }

    /**
     * A partial write of a stripe whose data chunk a crash would lose ({@link Preimage} says
     * why): hands what that chunk holds once this write is done, over the columns the write
     * changes (its current contents, with this write's bytes where the write covers the lost
     * chunk itself), to the volume's {@link PreimageLog}, which returns once they are durable.
     * Recovery sets the lost chunk to that image whether or not the write finished, so an
     * answered write is never undone and an unanswered one lands whole in the lost chunk.
     * Returns false if a read failed (that member is now faulty, and the stripe starts over).
     */
    private boolean savePreimage() throws IOException {
        PreimageLog log = core.preimages;
        if (log == PreimageLog.NONE || !hasP) {
            return true;
        }
        long atRisk = members.lostAfterCrash(stripe);
        if (atRisk == 0) {
            return true;
        }
        if (image == null) {
            image = StripeImage.scratch(layout);
        }
        long lostData = image.rolesOf(stripe, atRisk) & image.dataMask();
        if (lostData == 0) {
            return true; // only parity is at risk: recovery recomputes it from the data
        }
        int x0 = chunk;
        int x1 = 0;
        for (int i = 0; i < 3; i++) {
            if (cuts[i] < cuts[i + 1] && writtenMask(cuts[i]) != 0) {
                x0 = Math.min(x0, cuts[i]);
                x1 = cuts[i + 1];
            }
        }
        long lostNow = image.rolesOf(stripe, plan.lost());
        long needed = image.needed(lostNow);
        if (needed < 0) {
            return true; // beyond the level's redundancy: the plan refused what it could not write
        }
        if (!image.read(members, stripe, needed | (lostData & ~lostNow), x0, x1 - x0)) {
            return false;
        }
        image.recover(lostNow, x0, x1 - x0, false);
        int len = x1 - x0;
        ByteBuffer images = ByteBuffer.allocate(Long.bitCount(lostData) * len);
        for (long r = lostData; r != 0; r &= r - 1) {
            int role = Long.numberOfTrailingZeros(r);
            int at = images.position();
            images.put(image.buffer(role).duplicate().limit(image.index(role, x0) + len).position(image.index(role, x0)));
            overlayWrite(images, at, role, x0, x1);
        }
        log.save(new Preimage(stripe, x0, len, lostData, images.flip()));
        return true;
    }

    /**
     * Puts this write's bytes for data role {@code role} over its image at {@code images[at..]}
     * (columns [x0, x1)), where the write covers that chunk: the image is then of the chunk after
     * the write.
     */
    private void overlayWrite(ByteBuffer images, int at, int role, int x0, int x1) {
        if (role < firstChunk || role > lastChunk) {
            return;
        }
        int from = Math.max(x0, role == firstChunk ? startCol : 0);
        int to = Math.min(x1, role == lastChunk ? endCol : chunk);
        for (int c = from; c < to; c++) {
            images.put(at + c - x0, src == null ? 0 : src.get(srcBase + role * chunk + c));
        }
    }

    // --- write phase ------------------------------------------------------------------------------

    private long commit(boolean full) throws IOException {
        if (full && src == null) {
            return commitZeroStripe();
        }
        long lost = plan.lost();
        long touched = 0;
        long failed = 0;
        long dataSlots = 0;
        for (int d = firstChunk; d <= lastChunk; d++) {
            int member = layout.dataMember(stripe, d);
            dataSlots |= 1L << member;
            if ((lost & (1L << member)) != 0) {
                continue;
            }
            if (writeData(d, member)) {
                touched |= 1L << member;
            } else {
                failed |= 1L << member;
            }
        }
        long parityToWrite = 0;
        if (plan.pAlive()) {
            int member = layout.parityMember(stripe);
            parityToWrite |= 1L << member;
            touched |= full ? writeParity(p, member, 0, chunk) : writeParityRuns(p, member);
        }
        if (plan.qAlive()) {
            int member = layout.qMember(stripe);
            parityToWrite |= 1L << member;
            touched |= full ? writeParity(q, member, 0, chunk) : writeParityRuns(q, member);
        }
        return plan.afterWrites(touched, failed | (parityToWrite & ~touched), dataSlots);
    }

    /** A whole stripe of zeroes: every member serving it zeroes its chunk, which is correct parity too. */
    private long commitZeroStripe() throws IOException {
        long lost = plan.lost();
        long touched = 0;
        long failed = 0;
        for (int m = 0; m < members.count(); m++) {
            if ((lost & (1L << m)) != 0) {
                continue;
            }
            if (members.writeZeroes(m, layout.memberOffset(stripe, 0), chunk, mayDeallocate)) {
                touched |= 1L << m;
            } else {
                failed |= 1L << m;
            }
        }
        return plan.afterWrites(touched, failed, ~0L);
    }

    /** Writes data chunk {@code d}'s part as one member write from a window of the caller's buffer. */
    private boolean writeData(int d, int member) {
        int x0 = d == firstChunk ? startCol : 0;
        int x1 = d == lastChunk ? endCol : chunk;
        long off = layout.memberOffset(stripe, x0);
        if (src == null) {
            return members.writeZeroes(member, off, x1 - x0, mayDeallocate);
        }
        window(src, srcBase + d * chunk + x0, x1 - x0);
        try {
            return members.write(member, src, off);
        } finally {
            src.limit(srcLimit);
        }
    }

    /** Writes new parity for the affected columns, merging adjacent segments into one write. */
    private long writeParityRuns(ByteBuffer buf, int member) {
        int runStart = -1;
        int runEnd = -1;
        boolean ok = true;
        for (int i = 0; i < 3 && ok; i++) {
            int x0 = cuts[i];
            int x1 = cuts[i + 1];
            if (x0 == x1 || writtenMask(x0) == 0) {
                continue;
            }
            if (runStart >= 0 && x0 != runEnd) {
                ok = writeParity(buf, member, runStart, runEnd - runStart) != 0;
                runStart = -1;
            }
            if (runStart < 0) {
                runStart = x0;
            }
            runEnd = x1;
        }
        if (ok && runStart >= 0) {
            ok = writeParity(buf, member, runStart, runEnd - runStart) != 0;
        }
        return ok ? 1L << member : 0;
    }

    private long writeParity(ByteBuffer buf, int member, int x, int len) {
        window(buf, x, len);
        try {
            return members.write(member, buf, layout.memberOffset(stripe, x)) ? 1L << member : 0;
        } finally {
            buf.limit(chunk);
        }
    }

    private boolean readInto(ByteBuffer buf, int member, int x, int len, long memberOffset) {
        window(buf, x, len);
        try {
            return members.read(member, buf, memberOffset);
        } finally {
            buf.limit(chunk);
        }
    }

    /**
     * Narrows {@code buf} to {@code [index, index+len)} in place: the member I/O calls take
     * {@code remaining()} bytes, and a window costs no allocation where {@link ByteBuffer#slice}
     * would. Absolute accesses are checked against the limit, so every window is reopened right
     * after its one member call; the volume restores the caller's position and limit at the end.
     */
    static void window(ByteBuffer buf, int index, int len) {
        buf.limit(index + len).position(index);
    }

    /** Aligned to 4 KiB so an O_DIRECT member can read into and write from it directly. */
    static ByteBuffer alignedDirect(int size) {
        return ByteBuffer.allocateDirect(size + 4096).alignedSlice(4096).limit(size);
    }
}
