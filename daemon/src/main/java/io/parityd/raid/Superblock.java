package io.parityd.raid;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.zip.CRC32C;

import io.parityd.block.BlockDevice;

/**
 * The on-member superblock, format version 1: the one place its bytes are defined (DESIGN.md,
 * "RAID"). Every member starts with two copies of it, then reserved space, then data:
 *
 * <pre>
 *  member offset   0         4096        8192                   1 MiB (DATA_OFFSET)
 *                  | copy A  | copy B    | reserved (zeroes)    | chunk 0 ...
 *
 *  one copy, 4096 bytes, little-endian; UUIDs are 16 bytes in RFC 4122 order (as printed)
 *  offset  size  field
 *  0x000      8  magic             "PARITYSB" (ASCII)
 *  0x008      4  format version    u32 = 1
 *  0x00C      4  flags             u32; bit 0 = CLEAN, bit 1 = JOURNALED (the array's last run
 *                                  wrote through a write journal; its UUID is at 0x0C0), bit 2 =
 *                                  COMMAND_JOURNAL (that journal holds commands, not data; only
 *                                  with JOURNALED), bit 3 = CREATING (written by create's first
 *                                  pass; an array whose newest copy has it was never completely
 *                                  created), other bits reserved (written zero)
 *  0x010      8  generation        u64, &gt;= 1, +1 on every write; newest valid copy wins
 *  0x018      8  epoch             u64, &gt;= 1, fencing epoch
 *  0x020     16  array UUID
 *  0x030     16  member UUID       this member
 *  0x040      4  slot              u32, this member's index in the array
 *  0x044      4  level             u32 (5)
 *  0x048      4  chunk size        u32, bytes, power of two &gt;= 4096
 *  0x04C      4  member count      u32, members holding data or parity
 *  0x050      8  data offset       u64, bytes from member start to chunk 0
 *  0x058      8  member data size  u64, bytes of each member used for chunks
 *  0x060      8  created           i64, milliseconds since 1970-01-01T00:00Z
 *  0x068      8  updated           i64, milliseconds since 1970-01-01T00:00Z
 *  0x070      4  table entries     u32, rows in use in the member table (member count .. 64)
 *  0x074      4  name length       u32, 1 .. 64
 *  0x078      8  reserved          zero
 *  0x080     64  array name        UTF-8, zero padded
 *  0x0C0     16  journal UUID      the journal when JOURNALED, else zero; either without the
 *                                  other makes the copy invalid
 *  0x0D0     48  reserved          zero
 *  0x100   2048  member table      64 rows of 32 bytes, one per slot; rows past "table entries" zero
 *                  +0   16  member UUID
 *                  +16   4  state   u32: 1 ACTIVE, 2 FAULTY, 3 SPARE, 4 REBUILDING, 5 MISSING
 *                  +20   4  reserved zero
 *                  +24   8  rebuild position  u64, bytes of member data rebuilt
 *  0x900   1788  reserved          zero
 *  0xFFC      4  CRC32C            u32 over bytes 0x000 .. 0xFFB
 * </pre>
 *
 * <p><b>Torn writes.</b> An update overwrites the copy that does <em>not</em> hold the newest
 * valid generation, and makes it durable before returning. A write torn by a crash therefore
 * breaks at most the copy being written; the other still passes its checksum, and reading takes
 * the valid copy with the highest generation.
 *
 * <p><b>Journal identity.</b> JOURNALED and the journal UUID came after version 1 was first
 * written, in what were then reserved bits and bytes; since those were always written zero, a copy
 * from before reads as "no journal" and the version stayed 1.
 *
 * <p><b>Versions.</b> A copy claiming a version above {@link #VERSION} makes the member
 * {@code NEWER_FORMAT} even if the other copy is an older valid one: after an upgrade the old
 * copy is stale, and an old parityd must refuse the member rather than act on it.
 */
public final class Superblock {

    /** The format this class reads and writes. */
    public static final int VERSION = 1;

    /** Bytes of one copy: one page, so one aligned write, also under O_DIRECT. */
    public static final int BLOCK_SIZE = 4096;

    /** Member offsets of the two copies. */
    public static final long COPY_A_OFFSET = 0;
    public static final long COPY_B_OFFSET = BLOCK_SIZE;

    /** Bytes the superblock pair occupies at the start of every member. */
    public static final int RESERVED_BYTES = 2 * BLOCK_SIZE;

    /**
     * Where data starts on every member. 1 MiB leaves room after the superblock pair for later
     * metadata (a write-intent bitmap, a bad-block log) without moving data, and keeps chunk 0
     * aligned for every chunk size up to 1 MiB and for O_DIRECT on any device.
     */
    public static final long DATA_OFFSET = 1L << 20;

    private static final byte[] MAGIC = "PARITYSB".getBytes(StandardCharsets.US_ASCII);

    private static final int VERSION_AT = 0x008;
    private static final int FLAGS_AT = 0x00C;
    private static final int GENERATION_AT = 0x010;
    private static final int EPOCH_AT = 0x018;
    private static final int ARRAY_UUID_AT = 0x020;
    private static final int MEMBER_UUID_AT = 0x030;
    private static final int SLOT_AT = 0x040;
    private static final int LEVEL_AT = 0x044;
    private static final int CHUNK_AT = 0x048;
    private static final int MEMBER_COUNT_AT = 0x04C;
    private static final int DATA_OFFSET_AT = 0x050;
    private static final int DATA_SIZE_AT = 0x058;
    private static final int CREATED_AT = 0x060;
    private static final int UPDATED_AT = 0x068;
    private static final int TABLE_ENTRIES_AT = 0x070;
    private static final int NAME_LENGTH_AT = 0x074;
    private static final int NAME_AT = 0x080;
    private static final int JOURNAL_UUID_AT = 0x0C0;
    private static final int TABLE_AT = 0x100;
    private static final int ROW_SIZE = 32;
    private static final int ROW_STATE = 16;
    private static final int ROW_REBUILD = 24;
    private static final int CRC_AT = 0xFFC;

    private Superblock() {
    }

    /** The 4096 bytes of one copy holding {@code record}, position 0, limit 4096. */
    public static ByteBuffer encode(SuperblockRecord record) {
        ArrayGeometry g = record.geometry();
        ByteBuffer b = ByteBuffer.allocate(BLOCK_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, MAGIC);
        b.putInt(VERSION_AT, VERSION);
        b.putInt(FLAGS_AT, record.flags());
        b.putLong(GENERATION_AT, record.generation());
        b.putLong(EPOCH_AT, record.epoch());
        putUuid(b, ARRAY_UUID_AT, g.arrayUuid());
        putUuid(b, MEMBER_UUID_AT, record.memberUuid());
        b.putInt(SLOT_AT, record.slot());
        b.putInt(LEVEL_AT, g.level());
        b.putInt(CHUNK_AT, g.chunkSize());
        b.putInt(MEMBER_COUNT_AT, g.memberCount());
        b.putLong(DATA_OFFSET_AT, g.dataOffset());
        b.putLong(DATA_SIZE_AT, g.memberDataSize());
        b.putLong(CREATED_AT, record.created().toEpochMilli());
        b.putLong(UPDATED_AT, record.updated().toEpochMilli());
        b.putInt(TABLE_ENTRIES_AT, record.members().size());
        byte[] name = g.name().getBytes(StandardCharsets.UTF_8);
        b.putInt(NAME_LENGTH_AT, name.length);
        b.put(NAME_AT, name);
        putUuid(b, JOURNAL_UUID_AT, record.journalUuid().orElse(SuperblockRecord.NO_JOURNAL));
        for (int i = 0; i < record.members().size(); i++) {
            MemberEntry entry = record.members().get(i);
            int row = TABLE_AT + i * ROW_SIZE;
            putUuid(b, row, entry.memberUuid());
            b.putInt(row + ROW_STATE, entry.state().code());
            b.putLong(row + ROW_REBUILD, entry.rebuildPosition());
        }
        b.putInt(CRC_AT, checksum(b));
        return b;
    }

    /**
     * Parses one copy (the 4096 bytes from {@code block}'s position).
     *
     * @throws IllegalArgumentException saying why it is not a valid version-1 copy
     */
    public static SuperblockRecord decode(ByteBuffer block) {
        Copy copy = examine(block, 0);
        if (copy.kind != Kind.VALID) {
            throw new IllegalArgumentException(copy.why);
        }
        return copy.record;
    }

    /** Reads both copies and classifies the member (see {@link SuperblockRead.Status}). */
    public static SuperblockRead read(BlockDevice device) throws IOException {
        if (device.size() < RESERVED_BYTES) {
            return new SuperblockRead(SuperblockRead.Status.MISSING, Optional.empty(), 0,
                    device.size() + " bytes is too small to hold a superblock");
        }
        Copy[] copies = readCopies(device);
        String detail = copies[0].why + "; " + copies[1].why;
        for (Copy copy : copies) {
            if (copy.kind == Kind.NEWER) {
                return new SuperblockRead(SuperblockRead.Status.NEWER_FORMAT, Optional.empty(), copy.version, detail);
            }
        }
        Copy newest = newestValid(copies);
        if (newest != null) {
            return new SuperblockRead(SuperblockRead.Status.OK, Optional.of(newest.record), VERSION,
                    detail + "; using copy at " + newest.offset);
        }
        boolean magic = copies[0].kind != Kind.NO_MAGIC || copies[1].kind != Kind.NO_MAGIC;
        SuperblockRead.Status status = magic ? SuperblockRead.Status.DAMAGED : SuperblockRead.Status.MISSING;
        return new SuperblockRead(status, Optional.empty(), magic ? VERSION : 0, detail);
    }

    /**
     * Writes {@code record} over the copy that does not hold the newest valid generation and
     * makes it durable (FUA) before returning; the newest copy is never touched, so a torn
     * write leaves it readable.
     *
     * @throws IllegalArgumentException if {@code record} is not newer than what the member holds
     * @throws IOException              if the member holds a newer format (never downgraded) or
     *                                  the write or its sync fails
     */
    public static void write(BlockDevice device, SuperblockRecord record) throws IOException {
        Copy[] copies = readCopies(device);
        for (Copy copy : copies) {
            if (copy.kind == Kind.NEWER) {
                throw new IOException(device.describe() + " holds a format-" + copy.version
                        + " superblock, newer than this parityd's format " + VERSION + "; refusing to overwrite it");
            }
        }
        Copy newest = newestValid(copies);
        if (newest != null && newest.record.generation() >= record.generation()) {
            throw new IllegalArgumentException("generation " + record.generation() + " is not newer than "
                    + newest.record.generation() + " already on " + device.describe());
        }
        long target = newest == copies[0] ? COPY_B_OFFSET : COPY_A_OFFSET;
        device.write(encode(record), target, true);
    }

    /**
     * Writes {@code record} to both copies, each made durable before the next starts; for a new
     * member, whose old contents (if any) are being discarded.
     */
    public static void writeBoth(BlockDevice device, SuperblockRecord record) throws IOException {
        device.write(encode(record), COPY_A_OFFSET, true);
        device.write(encode(record), COPY_B_OFFSET, true);
    }

    /**
     * Zeroes both copies, each made durable (FUA): the member then belongs to no array, and
     * {@code create} takes it without {@code --force} (mdadm --zero-superblock).
     */
    public static void erase(BlockDevice device) throws IOException {
        device.write(ByteBuffer.allocate(BLOCK_SIZE), COPY_A_OFFSET, true);
        device.write(ByteBuffer.allocate(BLOCK_SIZE), COPY_B_OFFSET, true);
    }

    private static Copy[] readCopies(BlockDevice device) throws IOException {
        ByteBuffer both = ByteBuffer.allocate(RESERVED_BYTES);
        device.read(both, COPY_A_OFFSET);
        return new Copy[] {
            examine(both.slice(0, BLOCK_SIZE), COPY_A_OFFSET),
            examine(both.slice(BLOCK_SIZE, BLOCK_SIZE), COPY_B_OFFSET),
        };
    }

    /** The valid copy that is newest by {@link SuperblockRecord#AGE}; copy A on a tie; null if none is valid. */
    private static Copy newestValid(Copy[] copies) {
        Copy newest = null;
        for (Copy copy : copies) {
            if (copy.kind == Kind.VALID && (newest == null || SuperblockRecord.AGE.compare(copy.record, newest.record) > 0)) {
                newest = copy;
            }
        }
        return newest;
    }

    /** Checks one copy in the order that makes each verdict meaningful: magic, version, checksum, content. */
    private static Copy examine(ByteBuffer block, long offset) {
        ByteBuffer b = block.slice(block.position(), BLOCK_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        String at = "copy at " + offset + ": ";
        byte[] magic = new byte[MAGIC.length];
        b.get(0, magic);
        if (!Arrays.equals(magic, MAGIC)) {
            return new Copy(offset, Kind.NO_MAGIC, 0, null, at + "no magic");
        }
        int version = b.getInt(VERSION_AT);
        if (version > VERSION || version < 0) {
            return new Copy(offset, Kind.NEWER, version, null,
                    at + "format version " + Integer.toUnsignedString(version));
        }
        if (version == 0) {
            return new Copy(offset, Kind.INVALID, version, null, at + "format version 0");
        }
        int stored = b.getInt(CRC_AT);
        int computed = checksum(b);
        if (stored != computed) {
            return new Copy(offset, Kind.INVALID, version, null,
                    at + String.format("checksum mismatch (stored 0x%08x, computed 0x%08x)", stored, computed));
        }
        try {
            SuperblockRecord record = parse(b);
            return new Copy(offset, Kind.VALID, version, record, at + "generation " + record.generation());
        } catch (IllegalArgumentException e) {
            return new Copy(offset, Kind.INVALID, version, null, at + "checksum matches but " + e.getMessage());
        }
    }

    /** Fields of a copy whose checksum matched; throws if they do not make a consistent record. */
    private static SuperblockRecord parse(ByteBuffer b) {
        int tableEntries = b.getInt(TABLE_ENTRIES_AT);
        if (tableEntries < 1 || tableEntries > ArrayGeometry.MAX_MEMBERS) {
            throw new IllegalArgumentException("member table claims " + tableEntries + " entries");
        }
        ArrayGeometry geometry = new ArrayGeometry(getUuid(b, ARRAY_UUID_AT), parseName(b), b.getInt(LEVEL_AT),
                b.getInt(CHUNK_AT), b.getInt(MEMBER_COUNT_AT), b.getLong(DATA_OFFSET_AT), b.getLong(DATA_SIZE_AT));
        List<MemberEntry> members = new ArrayList<>(tableEntries);
        for (int i = 0; i < tableEntries; i++) {
            int row = TABLE_AT + i * ROW_SIZE;
            members.add(new MemberEntry(getUuid(b, row), MemberState.fromCode(b.getInt(row + ROW_STATE)),
                    b.getLong(row + ROW_REBUILD)));
        }
        UUID journal = getUuid(b, JOURNAL_UUID_AT);
        // The record refuses a JOURNALED flag without a UUID and a UUID without the flag.
        Optional<UUID> journalUuid = journal.equals(SuperblockRecord.NO_JOURNAL)
                ? Optional.empty() : Optional.of(journal);
        return new SuperblockRecord(b.getLong(GENERATION_AT), geometry, getUuid(b, MEMBER_UUID_AT), b.getInt(SLOT_AT),
                b.getLong(EPOCH_AT), Instant.ofEpochMilli(b.getLong(CREATED_AT)),
                Instant.ofEpochMilli(b.getLong(UPDATED_AT)), b.getInt(FLAGS_AT), journalUuid, members);
    }

    private static String parseName(ByteBuffer b) {
        int length = b.getInt(NAME_LENGTH_AT);
        if (length < 1 || length > SuperblockRecord.MAX_NAME_BYTES) {
            throw new IllegalArgumentException("array name length " + length + " outside 1-64");
        }
        try {
            CharBuffer name = StandardCharsets.UTF_8.newDecoder().decode(b.slice(NAME_AT, length));
            return name.toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("array name is not UTF-8", e);
        }
    }

    private static int checksum(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(b.slice(0, CRC_AT));
        return (int) crc.getValue();
    }

    private static void putUuid(ByteBuffer b, int at, UUID uuid) {
        for (int i = 0; i < 8; i++) {
            b.put(at + i, (byte) (uuid.getMostSignificantBits() >>> (56 - 8 * i)));
            b.put(at + 8 + i, (byte) (uuid.getLeastSignificantBits() >>> (56 - 8 * i)));
        }
    }

    private static UUID getUuid(ByteBuffer b, int at) {
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = (msb << 8) | (b.get(at + i) & 0xFF);
            lsb = (lsb << 8) | (b.get(at + 8 + i) & 0xFF);
        }
        return new UUID(msb, lsb);
    }

    private enum Kind { NO_MAGIC, NEWER, INVALID, VALID }

    /** What one copy held: its verdict, its version, its record when valid, and why. */
    private record Copy(long offset, Kind kind, int version, SuperblockRecord record, String why) {
    }
}
