package io.parityd.nvram;

import java.nio.ByteBuffer;

/**
 * One value of the journal's map: raw bytes, a header copy or a record. Written as {@code head}
 * then {@code body} (so an append copies the caller's data once, straight into the map); read back
 * as one buffer, {@code read}. The class name is stored in every journal file: never rename it.
 */
final class StoredValue {

    /** What to write first; its position and limit select the bytes. */
    ByteBuffer head;
    /** What to write after {@code head}, or null; its position and limit select the bytes. */
    ByteBuffer body;
    /** What a read filled: the whole value, position 0, limit its size. */
    ByteBuffer read;

    static StoredValue of(ByteBuffer head, ByteBuffer body) {
        StoredValue v = new StoredValue();
        v.head = head;
        v.body = body;
        return v;
    }

    long size() {
        return head.remaining() + (body == null ? 0 : body.remaining());
    }
}
