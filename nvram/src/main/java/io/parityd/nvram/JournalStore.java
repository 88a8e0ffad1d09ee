package io.parityd.nvram;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;

/**
 * The journal file: the Chronicle Map holding header copies and records, and a channel on the same
 * file to make it durable ({@code force(false)}, an fdatasync, which on Linux also writes the
 * file's dirty mapped pages). Knows the key layout, not what the records mean.
 */
final class JournalStore implements Closeable {

    /**
     * The file is sized for at least this much data, so that one request of the largest size NBD
     * clients send (32 MiB), admitted alone into a small journal, still fits.
     */
    static final long SIZING_FLOOR_BYTES = 32L << 20;

    /** A COMMANDS journal's average value: a record header, and room for the odd preimage. */
    static final double COMMANDS_AVERAGE_VALUE = 2 * JournalFormat.RECORD_HEADER_BYTES;

    private final Path path;
    private final ChronicleMap<Long, StoredValue> map;
    private final FileChannel channel;

    private JournalStore(Path path, ChronicleMap<Long, StoredValue> map, FileChannel channel) {
        this.path = path;
        this.map = map;
        this.channel = channel;
    }

    /**
     * A new, empty file (any old one must be gone), sized for {@code mode}'s records, created
     * owner-only before Chronicle Map lays out an empty file as a new map ({@link JournalFiles#OWNER_ONLY}).
     */
    static JournalStore create(Path path, long capacity, JournalMode mode) throws IOException {
        Files.createFile(path, JournalFiles.OWNER_ONLY);
        return wrap(path, builder(capacity, mode).createPersistedTo(path.toFile()));
    }

    /** An existing file after a clean close (Chronicle keeps the sizing it was created with). */
    static JournalStore openClean(Path path, long capacity) throws IOException {
        return wrap(path, builder(capacity, JournalMode.DATA).createPersistedTo(path.toFile()));
    }

    /** An existing file after anything else: Chronicle repairs its own structures first. */
    static JournalStore recover(Path path, long capacity) throws IOException {
        return wrap(path, builder(capacity, JournalMode.DATA).recoverPersistedTo(path.toFile(), true));
    }

    private static JournalStore wrap(Path path, ChronicleMap<Long, StoredValue> map) throws IOException {
        try {
            return new JournalStore(path, map, FileChannel.open(path, StandardOpenOption.WRITE));
        } catch (IOException | RuntimeException e) {
            map.close();
            throw e;
        }
    }

    /**
     * The records the admission limits allow for {@code capacity} bytes, at least 1024: one per
     * 4 KiB in a map sized for data; one per 256 bytes in one sized for commands (a command is a
     * 64-byte header; the rest is the map's own overhead per entry), so that a commands journal of
     * the default size holds a million commands: half a minute of writes at 30,000 a second before
     * the journal must retire them with a member sync.
     */
    static long recordsCap(long capacity, boolean sizedForCommands) {
        return Math.max(1024, capacity / (sizedForCommands ? COMMANDS_BYTES_PER_RECORD : 4096));
    }

    /** The bytes of capacity each command of a map sized for commands takes (see {@link #recordsCap}). */
    static final long COMMANDS_BYTES_PER_RECORD = 256;

    /**
     * DATA: records of up to a MiB each, the average a capacity's worth of 4 KiB writes.
     * COMMANDS: records are headers only (64 bytes), plus the marks, plus a few preimages (a
     * degraded stripe's lost chunk; Chronicle takes values far above the average in several
     * chunks), so the map is sized for that: entries for the records admitted and every mark, a
     * small average value.
     */
    private static ChronicleMapBuilder<Long, StoredValue> builder(long capacity, JournalMode mode) {
        long sized = Math.max(capacity, SIZING_FLOOR_BYTES);
        long records = recordsCap(sized, mode == JournalMode.COMMANDS);
        ChronicleMapBuilder<Long, StoredValue> b = ChronicleMapBuilder.of(Long.class, StoredValue.class)
                .name("parityd-journal");
        if (mode == JournalMode.COMMANDS) {
            b = b.entries(records + JournalFormat.MAX_MARKS + 1024)
                    .averageValueSize(COMMANDS_AVERAGE_VALUE)
                    .maxBloatFactor(4.0);
        } else {
            b = b.entries(records * 3 / 2)
                    .averageValueSize((double) sized / records + JournalFormat.RECORD_HEADER_BYTES);
        }
        return b
                .valueMarshaller(RecordMarshaller.INSTANCE)
                // Chronicle's own entry checksum (on by default for persisted maps) hashes every
                // byte of every value with xxHash64 on each put: 56% of the daemon's Java CPU
                // samples under 1 MiB writes (JFR). Each record already carries a CRC32C over its
                // header and data, which recovery checks (RecordHeader): that hash only repeats it.
                .checksumEntries(false)
                .putReturnsNull(true)
                .removeReturnsNull(true);
    }

    Path path() {
        return path;
    }

    void put(long key, StoredValue value) {
        map.put(key, value);
    }

    /** The stored bytes at {@code key}, or null. */
    ByteBuffer get(long key) {
        StoredValue v = map.getUsing(key, new StoredValue());
        return v == null ? null : v.read;
    }

    void remove(long key) {
        map.remove(key);
    }

    /** Every key, in no particular order. */
    List<Long> keys() {
        return new ArrayList<>(map.keySet());
    }

    long size() {
        return map.longSize();
    }

    void writeHeader(Header header) {
        map.put(JournalFormat.headerKey(header.generation()), StoredValue.of(header.encode(), null));
    }

    Header.Decoded headerCopy(long key) {
        return Header.decode(get(key));
    }

    /** Makes every change so far durable: fdatasync of the file, mapped pages included. */
    void force() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        try (FileChannel c = channel) {
            map.close();
        }
    }
}
