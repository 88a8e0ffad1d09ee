package io.parityd.front;

/**
 * How much one connection may have in flight before the front stops reading from it. Reading
 * resumes once it is back under half. This bounds memory per client without ever failing a
 * request: a client that pipelines faster than the disks simply waits in its socket buffer.
 *
 * @param maxInflightBytes payload and read-buffer bytes held for one connection's unfinished requests
 * @param maxInflightRequests unfinished requests on one connection
 */
public record FrontLimits(long maxInflightBytes, int maxInflightRequests) {

    /**
     * Four maximum-size requests, or 512 small ones: enough to keep every member busy for a
     * client at queue depth 128 (the kernel's default per connection), small enough that a
     * hundred clients stay within a few GiB.
     */
    public static final FrontLimits DEFAULT = new FrontLimits(128L << 20, 512);

    public FrontLimits {
        if (maxInflightBytes < VolumeExport.BLOCK_SIZES.maximum() || maxInflightRequests < 1) {
            throw new IllegalArgumentException("in-flight limits must admit at least one maximum-size request");
        }
    }
}
