package io.parityd.raid;

/**
 * One member slot as the volume sees it right now.
 *
 * @param slot            position in the array
 * @param state           ACTIVE, FAULTY, MISSING or REBUILDING (spares are not slots)
 * @param rebuiltStripes  for REBUILDING: stripes {@code [0, rebuiltStripes)} are current; else 0
 * @param device          the device's {@link io.parityd.block.BlockDevice#describe()}, or null if none
 */
public record SlotView(int slot, MemberState state, long rebuiltStripes, String device) {
}
