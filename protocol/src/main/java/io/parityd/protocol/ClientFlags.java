package io.parityd.protocol;

import io.parityd.protocol.Nbd.ClientFlag;

/**
 * The client's 32-bit flags field, sent once right after the server greeting. The decoder has
 * already refused unknown bits, so every bit here names a {@link ClientFlag}.
 */
record ClientFlags(int bits) implements HandshakeRequest {

    boolean has(ClientFlag flag) {
        return flag.in(bits);
    }
}
