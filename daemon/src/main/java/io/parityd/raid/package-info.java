/**
 * The RAID engine: md's left-symmetric layout, parity, stripe locks, the member superblock,
 * and creating and assembling arrays from members. Member I/O lives in
 * {@link io.parityd.member}; nothing here knows the NBD wire format.
 */
package io.parityd.raid;
