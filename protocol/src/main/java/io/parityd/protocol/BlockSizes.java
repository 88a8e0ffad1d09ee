package io.parityd.protocol;

/**
 * Block size constraints advertised in {@code NBD_INFO_BLOCK_SIZE} (proto.md "Block size
 * constraints"): requests must be aligned to {@code minimum}, are efficient at multiples of
 * {@code preferred}, and READ/WRITE may not exceed {@code maximum} bytes.
 */
public record BlockSizes(int minimum, int preferred, int maximum) {

    public BlockSizes {
        if (Integer.bitCount(minimum) != 1 || minimum > 65536) {
            throw new IllegalArgumentException("minimum block size must be a power of two <= 64 KiB: " + minimum);
        }
        if (Integer.bitCount(preferred) != 1 || preferred < Math.max(minimum, 512)) {
            throw new IllegalArgumentException("preferred block size must be a power of two >= max(minimum, 512): " + preferred);
        }
        if (maximum % minimum != 0 || maximum < preferred) {
            throw new IllegalArgumentException("maximum must be a multiple of minimum and >= preferred: " + maximum);
        }
    }
}
