/**
 * Member I/O: the {@link io.parityd.block.BlockDevice} implementations for regular files and
 * raw block devices, and the one class that talks to the kernel through jnr-ffi. RAID logic
 * does not live here; a member knows nothing of stripes.
 */
package io.parityd.member;
