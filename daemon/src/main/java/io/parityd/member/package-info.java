/**
 * Member I/O: the {@link io.parityd.block.BlockDevice} implementations for regular files
 * ({@code FileMember}) and raw block devices ({@code BlockMember}), {@code Members} to pick one by
 * file type, and {@code NativeIo}, the one class that talks to the kernel through jnr-ffi. RAID
 * logic does not live here; a member knows nothing of stripes.
 */
package io.parityd.member;
