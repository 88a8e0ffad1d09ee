/**
 * The controller pair of HA mode (DESIGN.md "The write path (HA mode)", "Failover and fencing"):
 * what the primary waits for before it touches a member, how the standby holds every write image
 * until the primary retires it, how a returning controller copies the primary's journal, and the
 * controller process that puts them together. The wire format is {@code io.parityd.link}'s; the
 * decisions about who is primary are the front's ({@code io.parityd.front}), not made here.
 */
package io.parityd.replication;
