/**
 * The RAID engine for levels 0, 1, 4, 5 and 6: layout, P and Q arithmetic, stripe locks, the
 * volumes ({@link io.parityd.raid.RaidVolumes}) with degraded operation, rebuild and scrub, the
 * member superblock, and creating and assembling arrays. Member I/O lives in
 * {@link io.parityd.member}; nothing here knows the NBD wire format.
 */
package io.parityd.raid;
