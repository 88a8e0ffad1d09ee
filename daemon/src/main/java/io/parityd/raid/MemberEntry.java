package io.parityd.raid;

import java.util.Objects;
import java.util.UUID;

/**
 * One row of the superblock's member table: which member a slot holds and how it is doing.
 *
 * @param memberUuid      identity of the member in this slot, written on it at create/replace
 * @param state           what the array thinks of it
 * @param rebuildPosition stripes already rebuilt, from stripe 0 (meaningful when REBUILDING)
 */
public record MemberEntry(UUID memberUuid, MemberState state, long rebuildPosition) {

    public MemberEntry {
        Objects.requireNonNull(memberUuid, "memberUuid");
        Objects.requireNonNull(state, "state");
        if (rebuildPosition < 0) {
            throw new IllegalArgumentException("rebuild position must not be negative: " + rebuildPosition);
        }
    }

    /** A hot spare, standing by. */
    public static MemberEntry spare(UUID memberUuid) {
        return new MemberEntry(memberUuid, MemberState.SPARE, 0);
    }

    public MemberEntry withState(MemberState newState, long position) {
        return new MemberEntry(memberUuid, newState, position);
    }

    /** An active member that needs no rebuild. */
    public static MemberEntry active(UUID memberUuid) {
        return new MemberEntry(memberUuid, MemberState.ACTIVE, 0);
    }
}
