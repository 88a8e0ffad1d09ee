package io.parityd.protocol;

/** Success without data: WRITE, FLUSH, TRIM, WRITE_ZEROES and friends. */
public record DoneReply(long cookie) implements NbdReply {
}
