package io.parityd.nvram;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Writes one request's records: a record header per piece and the caller's bytes copied once,
 * straight into the map. One per appending thread, so an append allocates only a view of the data.
 */
final class Appender {

    private final ByteBuffer head = ByteBuffer.allocate(JournalFormat.RECORD_HEADER_BYTES);
    private final CRC32C crc = new CRC32C();
    private final StoredValue value = new StoredValue();

    void append(JournalStore store, Ticket ticket, int kindCode, long offset, long length, int flags, long aux,
                ByteBuffer data) {
        ByteBuffer view = data == null ? null : data.duplicate();
        int start = data == null ? 0 : data.position();
        int pieces = ticket.pieces();
        for (int i = 0; i < pieces; i++) {
            long seq = ticket.firstSeq() + i;
            if (view != null) {
                int from = start + i * JournalFormat.MAX_PIECE_BYTES;
                view.limit(from + JournalFormat.pieceLength(ticket.bytes(), i)).position(from);
            }
            RecordHeader.write(head, crc, kindCode, flags, seq, ticket.firstSeq(), pieces, offset, length, aux, view);
            value.head = head;
            value.body = view;
            store.put(seq, value);
        }
        value.body = null;
    }

    /** Region {@code region}'s mark over the volume's bytes [offset, offset + length). */
    StoredValue mark(long region, long offset, long length) {
        long key = JournalFormat.markKey(region);
        RecordHeader.write(head, crc, RecordKind.MARK.code(), 0, key, key, 1, offset, length, 0, null);
        value.head = head;
        value.body = null;
        return value;
    }

    /** A VOID record: holds the place of a sequence number recovery found torn or missing. */
    static StoredValue voidRecord(long seq) {
        ByteBuffer head = ByteBuffer.allocate(JournalFormat.RECORD_HEADER_BYTES);
        RecordHeader.write(head, new CRC32C(), JournalFormat.KIND_VOID, 0, seq, seq, 1, 0, 0, 0, null);
        return StoredValue.of(head, null);
    }
}
