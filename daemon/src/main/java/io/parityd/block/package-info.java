/**
 * The one storage interface every layer speaks: a member file, a raw device, a RAID volume, and
 * later the journal and replication layers each implement {@link io.parityd.block.BlockDevice}
 * and wrap the next. Implementations live in their own packages; only the contract is here.
 */
package io.parityd.block;
