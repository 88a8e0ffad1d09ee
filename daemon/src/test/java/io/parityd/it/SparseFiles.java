package io.parityd.it;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** New sparse files, for replacements and spares. */
final class SparseFiles {

    private SparseFiles() {
    }

    static Path create(Path path, long size) throws Exception {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[1]), size - 1);
        }
        return path;
    }
}
