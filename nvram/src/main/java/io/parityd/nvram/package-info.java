/**
 * The NVRAM write journal: one record per unfinished write, persisted in a Chronicle Map so a
 * crash at any step of the write path can be redone (DESIGN.md "NVRAM"). Nothing here knows
 * RAID or NBD; the daemon decides what a record means.
 */
package io.parityd.nvram;
