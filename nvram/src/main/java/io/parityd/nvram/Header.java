package io.parityd.nvram;

import static io.parityd.nvram.JournalFormat.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * One header copy as {@link JournalFormat} lays it out, and its checks. Immutable; each write of
 * the header is a new copy with the next generation.
 */
record Header(UUID arrayUuid, UUID journalUuid, long created, long retiredThrough, long durableThrough,
              long capacity, long generation, String arrayName, JournalMode mode, boolean sizedForCommands) {

    /** What decoding a header copy found. */
    enum Verdict { VALID, ABSENT, BAD_MAGIC, NEWER_VERSION, BAD_CRC }

    /** A decoded copy: the header if {@code verdict} is VALID, the version found if NEWER_VERSION. */
    record Decoded(Verdict verdict, Header header, int version) {
    }

    Header withMarks(long retired, long durable) {
        return new Header(arrayUuid, journalUuid, created, retired, durable, capacity, generation + 1, arrayName, mode,
                sizedForCommands);
    }

    Header withCapacity(long newCapacity) {
        return new Header(arrayUuid, journalUuid, created, retiredThrough, durableThrough, newCapacity,
                generation + 1, arrayName, mode, sizedForCommands);
    }

    Header withMode(JournalMode newMode) {
        return new Header(arrayUuid, journalUuid, created, retiredThrough, durableThrough, capacity, generation + 1,
                arrayName, newMode, sizedForCommands);
    }

    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
        b.put(0, HEADER_MAGIC);
        b.putShort(H_VERSION, (short) VERSION);
        b.putShort(H_FLAGS, (short) (mode.code() | (sizedForCommands ? FLAG_SIZED_FOR_COMMANDS : 0)));
        putUuid(b, H_ARRAY_UUID, arrayUuid);
        putUuid(b, H_JOURNAL_UUID, journalUuid);
        b.putLong(H_CREATED, created);
        b.putLong(H_RETIRED, retiredThrough);
        b.putLong(H_DURABLE, durableThrough);
        b.putLong(H_CAPACITY, capacity);
        b.putLong(H_GENERATION, generation);
        byte[] name = boundedName(arrayName);
        b.putShort(H_NAME_LENGTH, (short) name.length);
        b.put(H_NAME, name);
        b.putInt(H_CRC, crc(b));
        return b;
    }

    static Decoded decode(ByteBuffer raw) {
        if (raw == null) {
            return new Decoded(Verdict.ABSENT, null, 0);
        }
        ByteBuffer b = raw.slice();
        byte[] magic = new byte[HEADER_MAGIC.length];
        if (b.remaining() >= magic.length) {
            b.get(0, magic);
        }
        if (!Arrays.equals(magic, HEADER_MAGIC)) {
            return new Decoded(Verdict.BAD_MAGIC, null, 0);
        }
        if (b.remaining() < H_VERSION + 2) {
            return new Decoded(Verdict.BAD_CRC, null, 0);
        }
        int version = Short.toUnsignedInt(b.getShort(H_VERSION));
        if (version > VERSION) {
            return new Decoded(Verdict.NEWER_VERSION, null, version);
        }
        if (b.remaining() != HEADER_BYTES || b.getInt(H_CRC) != crc(b)) {
            return new Decoded(Verdict.BAD_CRC, null, version);
        }
        JournalMode mode = JournalMode.fromCode(Short.toUnsignedInt(b.getShort(H_FLAGS)) & MODE_MASK);
        if (mode == null) {
            return new Decoded(Verdict.NEWER_VERSION, null, version); // a mode this parityd does not know
        }
        int nameLength = Math.min(Short.toUnsignedInt(b.getShort(H_NAME_LENGTH)), NAME_BYTES);
        byte[] name = new byte[nameLength];
        b.get(H_NAME, name);
        Header h = new Header(getUuid(b, H_ARRAY_UUID), getUuid(b, H_JOURNAL_UUID), b.getLong(H_CREATED),
                b.getLong(H_RETIRED), b.getLong(H_DURABLE), b.getLong(H_CAPACITY), b.getLong(H_GENERATION),
                new String(name, StandardCharsets.UTF_8), mode,
                (Short.toUnsignedInt(b.getShort(H_FLAGS)) & FLAG_SIZED_FOR_COMMANDS) != 0);
        return new Decoded(Verdict.VALID, h, version);
    }

    /** The name's UTF-8 bytes, cut at a character boundary to fit {@link JournalFormat#NAME_BYTES}. */
    static byte[] boundedName(String name) {
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= NAME_BYTES) {
            return utf8;
        }
        int end = NAME_BYTES;
        while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
            end--; // never cut a multi-byte character in half
        }
        return Arrays.copyOf(utf8, end);
    }

    private static int crc(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(b.slice(0, H_CRC));
        return (int) crc.getValue();
    }

    private static void putUuid(ByteBuffer b, int at, UUID uuid) {
        b.putLong(at, uuid.getMostSignificantBits());
        b.putLong(at + 8, uuid.getLeastSignificantBits());
    }

    private static UUID getUuid(ByteBuffer b, int at) {
        return new UUID(b.getLong(at), b.getLong(at + 8));
    }
}
