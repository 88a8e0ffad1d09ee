package io.parityd.raid;

import io.parityd.block.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A plain {@link FileChannel} over a regular file: a real on-disk member for tests, independent
 * of the production member classes. Zeroing writes a zero buffer; trim does nothing.
 */
final class ChannelDevice implements BlockDevice {

    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(64 * 1024).asReadOnlyBuffer();

    private final Path path;
    private final FileChannel channel;
    private final long size;

    ChannelDevice(Path path, long size) throws IOException {
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        this.size = size;
        channel.truncate(size);
        if (channel.size() < size) {
            channel.write(ByteBuffer.allocate(1), size - 1);
        }
    }

    @Override
    public String describe() {
        return path.toString();
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(ByteBuffer dst, long offset) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                throw new IOException("unexpected end of " + path + " at " + pos);
            }
            pos += n;
        }
    }

    @Override
    public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        long pos = offset;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
        if (fua) {
            flush();
        }
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) throws IOException {
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            ByteBuffer z = ZEROES.duplicate();
            z.limit((int) Math.min(z.capacity(), end - pos));
            write(z, pos, false);
            pos += z.limit();
        }
        if (fua) {
            flush();
        }
    }

    @Override
    public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
        return false;
    }

    @Override
    public void trim(long offset, long length, boolean fua) {
    }

    @Override
    public void flush() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
