package io.parityd.raid;

import java.util.Objects;
import java.util.Optional;

/**
 * What {@link Superblock#read} found on one member: a verdict, the record when there is one,
 * and a sentence on why, for the operator.
 *
 * @param status        the verdict
 * @param record        the newest valid copy's contents; present exactly when {@code OK}
 * @param formatVersion the version the member's superblock claims (0 when there is no magic)
 * @param detail        what each copy held, e.g. {@code copy at 0: checksum mismatch ...}
 */
public record SuperblockRead(Status status, Optional<SuperblockRecord> record, int formatVersion, String detail) {

    /** How a member's superblock pair reads. */
    public enum Status {
        /** At least one copy is valid; the newest valid one is the record. */
        OK,
        /** Neither copy has the magic: this is not a parityd member (or was wiped). */
        MISSING,
        /** The magic is there but no copy passes its checksum and checks. */
        DAMAGED,
        /** A copy claims a format version this parityd does not know: written by a newer one. */
        NEWER_FORMAT
    }

    public SuperblockRead {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(record, "record");
        Objects.requireNonNull(detail, "detail");
        if (record.isPresent() != (status == Status.OK)) {
            throw new IllegalArgumentException("a record comes with OK and only with OK: " + status);
        }
    }
}
