/**
 * The one storage interface every layer speaks: a member file, a raw device, a RAID volume, and
 * later the journal and replication layers each implement {@link io.parityd.block.BlockDevice}
 * and wrap the next. Only the contract lives here, with the layer every implementation can be
 * tested behind: {@link io.parityd.block.FaultyDevice}, which injects member failures on command.
 */
package io.parityd.block;
