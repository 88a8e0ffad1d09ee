package io.parityd.link;

/**
 * A joining standby asks its primary for a copy of what its journal holds, and for every record
 * the primary journals from then on. {@code epoch} is the epoch the front assigned it at;
 * {@code journalMode} the code of the standby's journal mode (an
 * {@code io.parityd.nvram.JournalMode}), which must be the primary's: a standby that journals
 * data cannot hold a primary's commands, nor the reverse.
 */
public record CatchUpRequest(long epoch, int journalMode) implements LinkMessage {

    @Override
    public MessageType type() {
        return MessageType.CATCH_UP_REQUEST;
    }
}
