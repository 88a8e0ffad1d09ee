package io.parityd.raid;

import io.parityd.block.BlockDevice;
import io.parityd.block.IoFailures;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The member slots of one array and what the volume currently thinks of each (DESIGN.md "RAID":
 * a member I/O error marks it faulty). Every member I/O of the engine goes through here, so an
 * {@link IOException} from a device always marks its slot FAULTY, tells the
 * {@link SlotListener} once, and turns into a {@code false} return the stripe code acts on.
 *
 * <p>Which slots are down is one immutable {@link Masks} snapshot behind a volatile field: the
 * hot path reads it once ({@link #healthy()}) and a healthy array pays nothing more. Transitions
 * (fail, rebuild start, finish) are rare and synchronized.
 *
 * <p>Durability before acknowledgement: a request that skipped a failed slot must not be
 * acknowledged before that failure is recorded in the other superblocks, or a crash could bring
 * the array back trusting a member that missed the write. The thread that notices a failure
 * records it synchronously; others that skip the slot meanwhile wait in {@link #awaitRecorded}.
 */
final class MemberSlots {

    /**
     * @param down        slots not ACTIVE (FAULTY, MISSING, REBUILDING)
     * @param rebuilding  slots REBUILDING: usable below their rebuild position
     * @param unrecorded  slots failed whose listener call has not returned yet
     */
    private record Masks(long down, long rebuilding, long unrecorded) {
    }

    private static final class Slot {
        volatile BlockDevice device;
        volatile MemberState state;
        /** REBUILDING: stripes {@code [0, rebuilt)} are current on {@link #device}. */
        volatile long rebuilt;
        /**
         * The rebuild position the superblocks hold (≤ {@link #rebuilt}): what a restart after a
         * crash would take as current, so stripes from here on are lost to a crash.
         */
        volatile long recorded;
        /** Set if the listener failed to record this slot's failure. */
        volatile RuntimeException recordFailure;
    }

    private final ArrayGeometry geometry;
    private final SlotListener listener;
    private final Slot[] slots;
    private final List<BlockDevice> retired = new ArrayList<>();
    private volatile Masks masks;
    /**
     * Slots the superblocks record as REBUILDING (from the start of a rebuild until its end is
     * recorded): after a crash they would serve only below {@link Slot#recorded}.
     */
    private volatile long unsettled;
    /** What was written while a slot is down ({@link WriteIntent}); NONE until a service attaches one. */
    private volatile WriteIntent intent = WriteIntent.NONE;

    MemberSlots(ArrayGeometry geometry, List<? extends BlockDevice> devices, List<MemberState> states,
                long[] rebuildPositions, SlotListener listener) {
        int n = geometry.memberCount();
        if (devices.size() != n || states.size() != n || (rebuildPositions != null && rebuildPositions.length != n)) {
            throw new IllegalArgumentException("geometry has " + n + " members but " + devices.size() + " devices, "
                    + states.size() + " states" + (rebuildPositions == null ? "" : ", " + rebuildPositions.length
                    + " rebuild positions") + " were given");
        }
        this.geometry = geometry;
        this.listener = listener;
        this.slots = new Slot[n];
        long down = 0;
        long rebuilding = 0;
        long unsettledAtOpen = 0;
        for (int i = 0; i < n; i++) {
            Slot slot = new Slot();
            slot.state = states.get(i);
            slot.device = devices.get(i);
            checkSlot(i, slot);
            if (slot.state != MemberState.ACTIVE) {
                down |= 1L << i;
            }
            if (slot.state == MemberState.REBUILDING) {
                rebuilding |= 1L << i;
                slot.rebuilt = rebuildPositions == null ? 0 : rebuildPositions[i];
                slot.recorded = slot.rebuilt;
                unsettledAtOpen |= 1L << i;
                if (slot.rebuilt < 0 || slot.rebuilt > geometry.stripes()) {
                    throw new IllegalArgumentException("slot " + i + " rebuild position " + slot.rebuilt
                            + " outside [0, " + geometry.stripes() + "]");
                }
            }
            slots[i] = slot;
        }
        this.masks = new Masks(down, rebuilding, 0);
        this.unsettled = unsettledAtOpen;
    }

    private void checkSlot(int i, Slot slot) {
        switch (slot.state) {
            case ACTIVE, REBUILDING -> {
                if (slot.device == null) {
                    throw new IllegalArgumentException("slot " + i + " is " + slot.state + " but has no device");
                }
                checkSize(i, slot.device);
            }
            case FAULTY, MISSING -> {
            }
            case SPARE -> throw new IllegalArgumentException("slot " + i + " is SPARE; spares are not slots");
        }
    }

    void checkSize(int slot, BlockDevice device) {
        long needed = geometry.dataOffset() + geometry.memberDataSize();
        if (device.size() < needed) {
            throw new IllegalArgumentException("member " + slot + " (" + device.describe() + ") has "
                    + device.size() + " bytes, the geometry needs " + needed);
        }
    }

    int count() {
        return slots.length;
    }

    /** True if every slot is ACTIVE: one volatile read. */
    boolean healthy() {
        return masks.down == 0;
    }

    /** Slots that cannot serve stripe {@code stripe} now (bits by slot). */
    long unusable(long stripe) {
        Masks m = masks;
        long down = m.down;
        if (down == 0) {
            return 0;
        }
        for (long r = m.rebuilding; r != 0; r &= r - 1) {
            int i = Long.numberOfTrailingZeros(r);
            if (stripe < slots[i].rebuilt) {
                down &= ~(1L << i);
            }
        }
        return down;
    }

    /**
     * Slots whose chunk of {@code stripe} a restart after a crash now would not trust: those
     * {@link #unusable} now, and those rebuilt past the position their superblocks record. A
     * write must save a {@link Preimage} of the data chunks on these before touching the stripe.
     */
    long lostAfterCrash(long stripe) {
        long lost = unusable(stripe);
        for (long u = unsettled; u != 0; u &= u - 1) {
            int i = Long.numberOfTrailingZeros(u);
            if (stripe >= slots[i].recorded) {
                lost |= 1L << i;
            }
        }
        return lost;
    }

    /** The superblocks now record {@code slot}'s rebuild at {@code position}. */
    void rebuildRecorded(int slot, long position) {
        Slot s = slots[slot];
        s.recorded = Math.max(s.recorded, Math.min(position, s.rebuilt));
    }

    /** The superblocks now record {@code slot} as ACTIVE again: it is whole after a crash too. */
    synchronized void rebuildFinishRecorded(int slot) {
        if (slots[slot].state == MemberState.ACTIVE) {
            unsettled &= ~(1L << slot);
        }
    }

    /** True if {@code slot} holds current data for {@code stripe}. */
    boolean usable(int slot, long stripe) {
        Masks m = masks;
        long bit = 1L << slot;
        if ((m.down & bit) == 0) {
            return true;
        }
        return (m.rebuilding & bit) != 0 && stripe < slots[slot].rebuilt;
    }

    /** Slots FAULTY or MISSING. */
    int failedCount() {
        Masks m = masks;
        return Long.bitCount(m.down & ~m.rebuilding);
    }

    /** Slots not ACTIVE. */
    int downCount() {
        return Long.bitCount(masks.down);
    }

    MemberState state(int slot) {
        return slots[slot].state;
    }

    long rebuilt(int slot) {
        return slots[slot].rebuilt;
    }

    BlockDevice device(int slot) {
        return slots[slot].device;
    }

    /**
     * Members that failed to take a write-intent record, to be failed once the intent's lock is
     * released: failing one calls the listener, which takes the array's lock, and a thread holding
     * that lock may be waiting for the intent's (a superblock write failing fails a slot too).
     */
    private final java.util.Queue<java.util.Map.Entry<Integer, IOException>> metadataFailures =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** Attaches the write intent; it starts recording at once if a slot is down already. */
    void attach(WriteIntent writeIntent) {
        intent = writeIntent;
        writeIntent.attach(this::writeMetadata, masks.down != 0);
        failPending();
    }

    /** Fails the members that could not take a write-intent record; call holding no intent lock. */
    void failPending() {
        for (java.util.Map.Entry<Integer, IOException> f = metadataFailures.poll(); f != null; f = metadataFailures.poll()) {
            fail(f.getKey(), f.getValue());
        }
    }

    WriteIntent intent() {
        return intent;
    }

    /**
     * Writes a metadata block durably to every serving member (ACTIVE or REBUILDING); each that
     * cannot take it is queued for {@link #failPending}.
     *
     * @throws IOException if none took it
     */
    private void writeMetadata(ByteBuffer block, long offset) throws IOException {
        int written = 0;
        IOException last = null;
        for (int i = 0; i < slots.length; i++) {
            MemberState state = slots[i].state;
            if (state != MemberState.ACTIVE && state != MemberState.REBUILDING) {
                continue;
            }
            try {
                slots[i].device.write(block.duplicate(), offset, true);
                written++;
            } catch (IOException e) {
                last = e;
                metadataFailures.add(java.util.Map.entry(i, e));
            }
        }
        if (written == 0) {
            throw last != null ? last : new IOException("no member serves to take the write-intent record");
        }
    }

    // --- member I/O: every IOException marks the slot faulty ----------------------------------

    boolean read(int slot, ByteBuffer dst, long offset) {
        try {
            slots[slot].device.read(dst, offset);
            return true;
        } catch (IOException e) {
            fail(slot, e);
            return false;
        }
    }

    boolean write(int slot, ByteBuffer src, long offset) {
        try {
            slots[slot].device.write(src, offset, false);
            return true;
        } catch (IOException e) {
            fail(slot, e);
            return false;
        }
    }

    boolean writeZeroes(int slot, long offset, long length, boolean mayDeallocate) {
        try {
            slots[slot].device.writeZeroes(offset, length, mayDeallocate, false);
            return true;
        } catch (IOException e) {
            fail(slot, e);
            return false;
        }
    }

    /**
     * Flushes one slot. A failed flush is never retried as if it succeeded (the kernel may have
     * dropped the pages): the slot is faulty from now on, and the failure goes to {@code failures}.
     */
    boolean flush(int slot, IoFailures failures) {
        try {
            slots[slot].device.flush();
            return true;
        } catch (IOException e) {
            fail(slot, e);
            failures.add(e);
            return false;
        }
    }

    /**
     * Guards the loops that start a stripe over after a member read failed: each restart follows a
     * slot going down, so more restarts than slots means a read of a slot already down, a bug that
     * would otherwise spin forever.
     */
    void checkRetries(int attempt, long stripe) {
        if (attempt > 2 * slots.length) {
            throw new IllegalStateException("stripe " + stripe + " restarted " + attempt
                    + " times without a new member failure");
        }
    }

    // --- transitions ----------------------------------------------------------------------------

    /**
     * Marks {@code slot} FAULTY if it was ACTIVE or REBUILDING, and records that with the listener
     * before returning. Idempotent: a slot already down is left alone and the listener hears of
     * each failure once.
     */
    void fail(int slot, IOException cause) {
        Slot s = slots[slot];
        long bit = 1L << slot;
        synchronized (this) {
            if (s.state != MemberState.ACTIVE && s.state != MemberState.REBUILDING) {
                return;
            }
            s.state = MemberState.FAULTY;
            s.recordFailure = null;
            Masks m = masks;
            masks = new Masks(m.down | bit, m.rebuilding & ~bit, m.unrecorded | bit);
        }
        // Before the failure is recorded: from here on what the slot misses is marked.
        intent.startRecording();
        failPending();
        try {
            listener.slotFailed(slot, cause);
        } catch (RuntimeException e) {
            s.recordFailure = e;
            throw e;
        } finally {
            synchronized (this) {
                Masks m = masks;
                masks = new Masks(m.down, m.rebuilding, m.unrecorded & ~bit);
                notifyAll();
            }
        }
    }

    /**
     * Waits until the failures of the slots in {@code mask} are recorded. Free when none is
     * pending, which is always on a healthy array.
     *
     * @throws IOException if the listener could not record one of them: the request that skipped
     *                     that slot must not be acknowledged
     */
    void awaitRecorded(long mask) throws IOException {
        if ((masks.unrecorded & mask) == 0 && !anyRecordFailure(mask)) {
            return;
        }
        synchronized (this) {
            while ((masks.unrecorded & mask) != 0) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted waiting for a member failure to be recorded");
                }
            }
        }
        for (long r = mask; r != 0; r &= r - 1) {
            int i = Long.numberOfTrailingZeros(r);
            RuntimeException failure = slots[i].recordFailure;
            if (failure != null) {
                throw new IOException("the failure of slot " + i + " could not be recorded in the superblocks", failure);
            }
        }
    }

    private boolean anyRecordFailure(long mask) {
        if ((masks.down & mask) == 0) {
            return false;
        }
        for (long r = mask; r != 0; r &= r - 1) {
            if (slots[Long.numberOfTrailingZeros(r)].recordFailure != null) {
                return true;
            }
        }
        return false;
    }

    /**
     * Puts {@code device} into a FAULTY or MISSING slot (or a REBUILDING one whose rebuild stopped)
     * as REBUILDING from stripe {@code from}. The device it replaces is kept to be closed with the
     * volume, since a lock-free read may still be using it.
     */
    synchronized void startRebuild(int slot, BlockDevice device, long from) {
        Slot s = slots[slot];
        if (s.state == MemberState.ACTIVE) {
            throw new IllegalStateException("slot " + slot + " is active; fail it before rebuilding it");
        }
        if (from < 0 || from > geometry.stripes()) {
            throw new IllegalArgumentException("rebuild start " + from + " outside [0, " + geometry.stripes() + "]");
        }
        checkSize(slot, device);
        if (s.state == MemberState.REBUILDING) {
            if (device != s.device || from > s.rebuilt) {
                throw new IllegalStateException("slot " + slot + " is rebuilding onto " + s.device.describe()
                        + " up to stripe " + s.rebuilt + "; it can only resume there, at or below that stripe");
            }
        } else if (s.device != null && s.device != device) {
            retired.add(s.device);
        }
        if (s.state != MemberState.REBUILDING) {
            s.recorded = 0; // recorded FAULTY or MISSING: nothing of it is trusted yet
        }
        s.recorded = Math.min(s.recorded, from);
        unsettled |= 1L << slot;
        s.device = device;
        s.rebuilt = from;
        s.state = MemberState.REBUILDING;
        long bit = 1L << slot;
        Masks m = masks;
        masks = new Masks(m.down | bit, m.rebuilding | bit, m.unrecorded);
    }

    /** Stripes {@code [0, stripes)} of a REBUILDING slot are current. Caller holds their locks. */
    void advance(int slot, long stripes) {
        slots[slot].rebuilt = stripes;
    }

    /** A complete rebuild makes the slot ACTIVE; false if it failed meanwhile. */
    synchronized boolean finishRebuild(int slot) {
        Slot s = slots[slot];
        if (s.state != MemberState.REBUILDING) {
            return false;
        }
        s.rebuilt = geometry.stripes();
        s.state = MemberState.ACTIVE;
        long bit = 1L << slot;
        Masks m = masks;
        masks = new Masks(m.down & ~bit, m.rebuilding & ~bit, m.unrecorded);
        return true;
    }

    List<SlotView> views() {
        List<SlotView> views = new ArrayList<>(slots.length);
        for (int i = 0; i < slots.length; i++) {
            Slot s = slots[i];
            MemberState state = s.state;
            BlockDevice device = s.device;
            views.add(new SlotView(i, state, state == MemberState.REBUILDING ? s.rebuilt : 0,
                    device == null ? null : device.describe()));
        }
        return List.copyOf(views);
    }

    /** Every device this volume ever held, each once, for closing. */
    synchronized List<BlockDevice> allDevices() {
        List<BlockDevice> all = new ArrayList<>(retired);
        for (Slot s : slots) {
            if (s.device != null && !all.contains(s.device)) {
                all.add(s.device);
            }
        }
        return all;
    }
}
