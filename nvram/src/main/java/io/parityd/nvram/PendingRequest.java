package io.parityd.nvram;

/**
 * One request the journal holds that may not be on the members yet: all of its pieces were found
 * and passed their checksums. Its data (for {@link RecordKind#WRITE}) is read with
 * {@link Journal#readData(PendingRequest)}.
 *
 * @param firstSeq the sequence number of its first piece; requests are redone in this order
 * @param lastSeq  the sequence number of its last piece ({@code firstSeq + pieces - 1})
 * @param kind     WRITE, TRIM, WRITE_ZEROES or PREIMAGE
 * @param offset   byte offset of the whole request on the volume
 * @param length   byte length of the whole request
 * @param flags    {@link JournalFormat#FLAG_FUA}, {@link JournalFormat#FLAG_MAY_DEALLOCATE}
 * @param aux      kind-specific (PREIMAGE: the daemon's chunk identity); 0 otherwise
 */
public record PendingRequest(long firstSeq, long lastSeq, RecordKind kind, long offset, long length, int flags,
                             long aux) {
}
