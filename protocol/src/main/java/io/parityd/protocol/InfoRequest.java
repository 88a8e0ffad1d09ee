package io.parityd.protocol;

import io.netty.buffer.ByteBuf;
import io.parityd.protocol.Nbd.InfoType;

import java.nio.charset.StandardCharsets;

/**
 * The data of {@code NBD_OPT_INFO} and {@code NBD_OPT_GO} (proto.md under "NBD_OPT_INFO (6) and
 * NBD_OPT_GO (7)"): u32 name length, name, u16 count, count × u16 information requests. Requests
 * this server does not understand are ignored, as the spec says; repeated ones count once.
 *
 * @param name      the export name; empty means the default export
 * @param requested bit {@code 1 << code} set for each known {@link InfoType} the client asked for
 */
record InfoRequest(String name, int requested) {

    /** The fixed part: u32 name length and u16 request count. */
    private static final int FIXED_LENGTH = 4 + 2;

    boolean wants(InfoType type) {
        return type != InfoType.UNKNOWN && (requested & (1 << type.code())) != 0;
    }

    /**
     * Parses option data without consuming it. Returns a description of what is wrong instead of
     * throwing, because a malformed option is the client's error and gets {@code NBD_REP_ERR_INVALID},
     * not a stack trace; see {@link Parsed}.
     */
    static Parsed parse(ByteBuf data) {
        int length = data.readableBytes();
        int at = data.readerIndex();
        if (length < FIXED_LENGTH) {
            return Parsed.invalid("option data of " + length + " bytes is shorter than the minimum of 6");
        }
        long nameLength = data.getUnsignedInt(at);
        if (nameLength > length - FIXED_LENGTH) {
            return Parsed.invalid("name length " + nameLength + " exceeds the option data length "
                    + length + " - 6");
        }
        String name = data.toString(at + 4, (int) nameLength, StandardCharsets.UTF_8);
        int countAt = at + 4 + (int) nameLength;
        int count = data.getUnsignedShort(countAt);
        int listLength = length - FIXED_LENGTH - (int) nameLength;
        if (listLength != 2 * count) {
            return Parsed.invalid(count + " information requests need " + 2 * count + " bytes, the option has "
                    + listLength);
        }
        int requested = 0;
        for (int i = 0; i < count; i++) {
            InfoType type = InfoType.fromCode(data.getUnsignedShort(countAt + 2 + 2 * i));
            if (type != InfoType.UNKNOWN) {
                requested |= 1 << type.code();
            }
        }
        return new Parsed(new InfoRequest(name, requested), null);
    }

    /** Either a request or why the data could not be one. */
    record Parsed(InfoRequest request, String problem) {

        static Parsed invalid(String problem) {
            return new Parsed(null, problem);
        }

        boolean valid() {
            return request != null;
        }
    }
}
