package io.parityd.nvram;

import java.nio.ByteBuffer;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.hash.serialization.SizedReader;
import net.openhft.chronicle.hash.serialization.SizedWriter;
import net.openhft.chronicle.wire.WireIn;
import net.openhft.chronicle.wire.WireOut;

/**
 * Copies journal values between {@link StoredValue} buffers and the map without looking at them
 * (the checks are {@link Header}'s and {@link RecordHeader}'s). Stateless. Its class name is stored
 * in every journal file (JournalFormat): never rename or move it.
 */
final class RecordMarshaller implements SizedReader<StoredValue>, SizedWriter<StoredValue> {

    static final RecordMarshaller INSTANCE = new RecordMarshaller();

    @Override
    public long size(StoredValue value) {
        return value.size();
    }

    @Override
    public void write(Bytes<?> out, long size, StoredValue value) {
        put(out, value.head);
        if (value.body != null) {
            put(out, value.body);
        }
    }

    private static void put(Bytes<?> out, ByteBuffer from) {
        int length = from.remaining();
        out.write(out.writePosition(), from, from.position(), length);
        out.writeSkip(length);
    }

    @Override
    public StoredValue read(Bytes<?> in, long size, StoredValue using) {
        StoredValue value = using == null ? new StoredValue() : using;
        int length = Math.toIntExact(size);
        ByteBuffer target = value.read != null && value.read.capacity() >= length
                ? value.read.clear() : ByteBuffer.allocate(length);
        target.limit(length);
        in.read(target);
        if (target.hasRemaining()) {
            throw new IllegalStateException("journal value: read " + target.position() + " of " + length + " bytes");
        }
        value.read = target.flip();
        return value;
    }

    @Override
    public void readMarshallable(WireIn wire) {
        // stateless: nothing to read
    }

    @Override
    public void writeMarshallable(WireOut wire) {
        // stateless: nothing to write
    }
}
