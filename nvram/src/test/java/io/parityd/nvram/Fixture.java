package io.parityd.nvram;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.UUID;

/** Options and data for journal tests: one array, a small journal, chosen by withers. */
record Fixture(JournalOptions options) {

    static final UUID ARRAY = UUID.fromString("6b1c4a2e-0000-4000-8000-00000000a11a");
    static final long CAPACITY = 8L << 20;

    static Fixture in(Path dir) {
        return new Fixture(new JournalOptions(dir.resolve("journal"), ARRAY, "tank", null, CAPACITY, false, false,
                JournalOptions.SyncHook.NONE));
    }

    Fixture expected(UUID uuid) {
        JournalOptions o = options;
        return new Fixture(new JournalOptions(o.path(), o.arrayUuid(), o.arrayName(), uuid, o.capacityBytes(),
                o.nonVolatile(), o.discard(), o.syncHook(), o.mode()));
    }

    Fixture array(UUID uuid, String name) {
        JournalOptions o = options;
        return new Fixture(new JournalOptions(o.path(), uuid, name, o.expected(), o.capacityBytes(),
                o.nonVolatile(), o.discard(), o.syncHook(), o.mode()));
    }

    Fixture capacity(long bytes) {
        JournalOptions o = options;
        return new Fixture(new JournalOptions(o.path(), o.arrayUuid(), o.arrayName(), o.expected(), bytes,
                o.nonVolatile(), o.discard(), o.syncHook(), o.mode()));
    }

    Fixture nonVolatile() {
        JournalOptions o = options;
        return new Fixture(new JournalOptions(o.path(), o.arrayUuid(), o.arrayName(), o.expected(), o.capacityBytes(),
                true, o.discard(), o.syncHook(), o.mode()));
    }

    Fixture discard() {
        JournalOptions o = options;
        return new Fixture(new JournalOptions(o.path(), o.arrayUuid(), o.arrayName(), o.expected(), o.capacityBytes(),
                o.nonVolatile(), true, o.syncHook(), o.mode()));
    }

    Fixture hook(JournalOptions.SyncHook hook) {
        JournalOptions o = options;
        return new Fixture(new JournalOptions(o.path(), o.arrayUuid(), o.arrayName(), o.expected(), o.capacityBytes(),
                o.nonVolatile(), o.discard(), hook, o.mode()));
    }

    Fixture mode(JournalMode mode) {
        return new Fixture(options.inMode(mode));
    }

    Path path() {
        return options.path();
    }

    Journal open() throws JournalException {
        return Journal.open(options);
    }

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Reserves, begins and appends a WRITE of {@code data} at {@code offset}. */
    static Ticket write(Journal j, long offset, byte[] data) throws Exception {
        j.reserve(data.length).get();
        Ticket t = j.begin(data.length);
        j.append(t, RecordKind.WRITE, offset, data.length, 0, 0, ByteBuffer.wrap(data));
        return t;
    }

    /** Reserves, begins and appends a TRIM (no data). */
    static Ticket trim(Journal j, long offset, long length) throws Exception {
        j.reserve(0).get();
        Ticket t = j.begin(0);
        j.append(t, RecordKind.TRIM, offset, length, 0, 0, null);
        return t;
    }

    /** Stores record {@code seq} again with one byte of it flipped (the checksum no longer matches). */
    static void corrupt(Journal j, long seq, int at) {
        ByteBuffer raw = j.getRaw(seq);
        ByteBuffer copy = ByteBuffer.allocate(raw.remaining()).put(raw.duplicate()).flip();
        copy.put(at, (byte) (copy.get(at) ^ 0x5A));
        j.putRaw(seq, copy);
    }
}
