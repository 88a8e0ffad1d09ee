package io.parityd.member;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import io.parityd.block.BlockDevice;

/**
 * Picks the member implementation a path needs: {@link FileMember} for a regular file,
 * {@link BlockMember} for a block device, a clear refusal for anything else (DESIGN.md, "RAID":
 * member I/O). Symbolic links are followed, so {@code /dev/disk/by-id/...} names work.
 */
public final class Members {

    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFLNK = 0120000;
    static final int S_IFREG = 0100000;
    static final int S_IFBLK = 0060000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;

    private Members() {
    }

    /**
     * Opens an existing member: read-write for serving (a block device exclusively), or read-only
     * for inspection.
     *
     * @throws NoSuchFileException if nothing is at {@code path}
     * @throws IOException naming the path when it is neither a regular file nor a block device,
     *                     or when opening fails (see {@link FileMember#open}, {@link BlockMember#open})
     */
    public static BlockDevice open(Path path, boolean readOnly) throws IOException {
        int type = type(path);
        if (type == S_IFREG) {
            return FileMember.open(path, readOnly);
        }
        if (type == S_IFBLK) {
            return BlockMember.open(path, readOnly);
        }
        throw notAMember(path, type);
    }

    /** True if {@code path} is (or links to) a block device; false if it is anything else or absent. */
    public static boolean isBlockDevice(Path path) throws IOException {
        try {
            return type(path) == S_IFBLK;
        } catch (NoSuchFileException absent) {
            return false;
        }
    }

    /**
     * The bytes a member at {@code path} offers, without opening it for writing: the file size, or
     * a block device's {@code BLKGETSIZE64}. For sizing new arrays; a device in use by someone
     * else can still be measured.
     *
     * @throws NoSuchFileException if nothing is at {@code path}
     * @throws IOException naming the path when it is neither a regular file nor a block device
     */
    public static long sizeOf(Path path) throws IOException {
        int type = type(path);
        if (type == S_IFREG) {
            return Files.size(path);
        }
        if (type == S_IFBLK) {
            try (NativeIo io = NativeIo.open(path, NativeIo.O_RDONLY | NativeIo.O_CLOEXEC, 0)) {
                return io.blockDeviceSize();
            }
        }
        throw notAMember(path, type);
    }

    /** The {@code S_IFMT} bits of what {@code path} names, following links. */
    static int type(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode") & S_IFMT;
    }

    /** "a directory", "a character device", ...: what an operator calls the file type. */
    static String typeName(int type) {
        return switch (type) {
            case S_IFREG -> "a regular file";
            case S_IFBLK -> "a block device";
            case S_IFDIR -> "a directory";
            case S_IFCHR -> "a character device";
            case S_IFIFO -> "a named pipe";
            case S_IFSOCK -> "a socket";
            case S_IFLNK -> "a symbolic link";
            default -> "a file of unknown type 0" + Integer.toOctalString(type);
        };
    }

    static IOException notAMember(Path path, int type) {
        return new IOException(path + " is " + typeName(type) + "; a member must be a regular file or a block device");
    }
}
