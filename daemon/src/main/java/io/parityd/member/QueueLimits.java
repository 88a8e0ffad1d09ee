package io.parityd.member;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the kernel's block layer says a device can offload, read from
 * {@code /sys/dev/block/MAJOR:MINOR/queue/} (a partition has no {@code queue} directory of its
 * own and uses its disk's). Read once when a member opens: asking is free and changes nothing,
 * unlike a trial zeroing.
 */
final class QueueLimits {

    private static final Path SYS_DEV_BLOCK = Path.of("/sys/dev/block");

    private QueueLimits() {
    }

    /**
     * Whether the device zeroes ranges without data transfer ({@code REQ_OP_WRITE_ZEROES}), which
     * is what {@code fallocate(PUNCH_HOLE)} on a block device needs and what makes
     * {@code BLKZEROOUT} and {@code ZERO_RANGE} fast. False when sysfs cannot tell.
     */
    static boolean offloadsZeroing(Path device) {
        return limit(device, "write_zeroes_max_bytes") > 0;
    }

    /** A {@code queue/} attribute as a number, or -1 when sysfs is missing or unreadable. */
    static long limit(Path device, String attribute) {
        try {
            long rdev = (Long) Files.getAttribute(device, "unix:rdev");
            Path dir = SYS_DEV_BLOCK.resolve(major(rdev) + ":" + minor(rdev)).toRealPath();
            Path file = dir.resolve("queue").resolve(attribute);
            if (!Files.exists(file)) {
                file = dir.getParent().resolve("queue").resolve(attribute);
            }
            return Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).trim());
        } catch (IOException | RuntimeException unknown) {
            // Not knowing is an answer here: callers then take the path that needs no offload.
            return -1;
        }
    }

    /** glibc's {@code gnu_dev_major}. */
    static long major(long rdev) {
        return ((rdev >>> 8) & 0xfffL) | ((rdev >>> 32) & 0xfffff000L);
    }

    /** glibc's {@code gnu_dev_minor}. */
    static long minor(long rdev) {
        return (rdev & 0xffL) | ((rdev >>> 12) & 0xffffff00L);
    }
}
