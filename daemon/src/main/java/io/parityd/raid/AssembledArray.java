package io.parityd.raid;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.parityd.block.BlockDevice;
import io.parityd.block.IoFailures;
import io.parityd.member.FileMember;

/**
 * An array whose members {@link ArrayAssembler} opened and checked: its geometry, its members in
 * slot order, their superblocks, and the one way this package updates them. It owns the
 * members and closes them.
 *
 * <p>The CLEAN flag follows md's dirty/clean protocol: {@link #markDirty()} before the first
 * write, {@link #markClean()} after the last one has been flushed. An array found dirty was not
 * shut down cleanly and its parity must be checked where writes may have been in flight.
 *
 * <p>Thread safety: the mark methods are synchronized with each other; the members themselves
 * are thread-safe {@link BlockDevice}s.
 */
public final class AssembledArray implements Closeable {

    private final ArrayGeometry geometry;
    private final List<Path> paths;
    private final List<FileMember> members;
    private final Clock clock;
    private final boolean shutDownCleanly;
    /** Each member's superblock as last read or written, by slot. */
    private final SuperblockRecord[] records;
    /** The newest record: the array's truth, which the next update rewrites everywhere. */
    private SuperblockRecord newest;

    AssembledArray(List<ArrayAssembler.Opened> bySlot, Clock clock) {
        this.clock = clock;
        this.records = new SuperblockRecord[bySlot.size()];
        List<Path> pathList = new ArrayList<>();
        List<FileMember> memberList = new ArrayList<>();
        boolean allClean = true;
        SuperblockRecord top = bySlot.get(0).record();
        for (int slot = 0; slot < bySlot.size(); slot++) {
            ArrayAssembler.Opened opened = bySlot.get(slot);
            records[slot] = opened.record();
            pathList.add(opened.path());
            memberList.add(opened.member());
            allClean &= opened.record().clean();
            if (opened.record().generation() > top.generation()) {
                top = opened.record();
            }
        }
        this.newest = top;
        this.geometry = top.geometry();
        this.paths = List.copyOf(pathList);
        this.members = List.copyOf(memberList);
        // Clean only if every member says so: a crash while marking dirty can leave the newest
        // member dirty and others clean, and one dirty member is enough to distrust parity.
        this.shutDownCleanly = allClean;
    }

    public ArrayGeometry geometry() {
        return geometry;
    }

    /** Members in slot order; slot {@code i} is {@code members().get(i)}. */
    public List<BlockDevice> members() {
        return List.copyOf(members);
    }

    /** Member paths in slot order, as they were given. */
    public List<Path> memberPaths() {
        return paths;
    }

    /** Each member's current superblock, in slot order. */
    public synchronized List<SuperblockRecord> superblocks() {
        return List.of(records.clone());
    }

    /** The array's fencing epoch (DESIGN.md, "Failover and fencing"), from the newest superblock. */
    public synchronized long epoch() {
        return newest.epoch();
    }

    /** True if every member's superblock had CLEAN set when the array was assembled. */
    public boolean shutDownCleanly() {
        return shutDownCleanly;
    }

    /**
     * Clears CLEAN on every member, durably, before the caller writes data: after a crash the
     * array will be known dirty.
     */
    public synchronized void markDirty() throws IOException {
        rewrite(false);
    }

    /**
     * Flushes every member, then sets CLEAN on every member, durably. Call only once no write is
     * in flight: CLEAN promises parity is consistent everywhere.
     */
    public synchronized void markClean() throws IOException {
        for (FileMember member : members) {
            member.flush();
        }
        rewrite(true);
    }

    /**
     * Writes the newest record, with {@code clean} and a generation above every member's, to each
     * member in slot order. Each write is durable before the next starts, so a crash leaves a
     * prefix of members updated, which the generation rule of {@link ArrayAssembler} accepts.
     */
    private void rewrite(boolean clean) throws IOException {
        long generation = 0;
        for (SuperblockRecord record : records) {
            generation = Math.max(generation, record.generation());
        }
        Instant now = clock.instant();
        SuperblockRecord next = newest.withClean(clean).withGeneration(generation + 1, now);
        for (int slot = 0; slot < members.size(); slot++) {
            SuperblockRecord mine = next.forSlot(slot);
            Superblock.write(members.get(slot), mine);
            records[slot] = mine;
        }
        newest = next;
    }

    /** Closes every member in reverse slot order, keeping the first failure and suppressing the rest. */
    @Override
    public void close() throws IOException {
        IoFailures.closeAll(members);
    }

    @Override
    public String toString() {
        return "AssembledArray['" + geometry.name() + "', " + geometry.arrayUuid() + ", " + members.size() + " members]";
    }
}
