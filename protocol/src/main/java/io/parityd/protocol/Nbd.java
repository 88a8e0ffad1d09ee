package io.parityd.protocol;

import java.util.EnumSet;
import java.util.Set;

/**
 * The NBD wire constants this server speaks, in one place: magics, fixed lengths, and the codes of
 * the handshake (proto.md "Values", "Handshake phase") and of structured replies (proto.md
 * "Structured reply flags", "Structured reply types"). Transmission flags, command types, command
 * flags and error values live in {@link TransmissionFlag}, {@link CommandType}, {@link CommandFlag}
 * and {@link NbdError}.
 *
 * <p>Value enums map a code the server does not know to {@code UNKNOWN}; whoever decoded it keeps the
 * raw code for the log. Flag enums expose the bit, and decode a whole field with {@code fromBits}.
 */
public final class Nbd {

    /** {@code NBDMAGIC}: first 8 bytes the server sends (also called {@code INIT_PASSWD}). */
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    /** {@code IHAVEOPT}: the server greeting's second magic, and the prefix of every option request. */
    public static final long IHAVEOPT = 0x49484156454F5054L;
    /** Prefix of every option reply in fixed newstyle negotiation. */
    public static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    /** magic u32, flags u16, type u16, cookie u64, offset u64, length u32. */
    public static final int REQUEST_HEADER_LENGTH = 28;
    /** magic u32, error u32, cookie u64. */
    public static final int SIMPLE_REPLY_HEADER_LENGTH = 16;
    /** magic u32, flags u16, type u16, cookie u64, length u32. */
    public static final int STRUCTURED_REPLY_HEADER_LENGTH = 20;
    /** {@code IHAVEOPT} u64, option u32, length u32. */
    public static final int OPTION_HEADER_LENGTH = 16;
    /** Reserved zeroes after the {@code NBD_OPT_EXPORT_NAME} reply unless NO_ZEROES was agreed. */
    public static final int EXPORT_NAME_ZEROES = 124;
    /** Longest string (export name, error message) the spec allows, in UTF-8 bytes. */
    public static final int MAX_STRING_LENGTH = 4096;

    private Nbd() {
    }

    /** Server handshake flags, 16 bits (proto.md "Handshake flags"). */
    public enum HandshakeFlag {
        FIXED_NEWSTYLE(0),
        NO_ZEROES(1);

        private final int bit;

        HandshakeFlag(int shift) {
            this.bit = 1 << shift;
        }

        public int code() {
            return bit;
        }

        public boolean in(int bits) {
            return (bits & bit) != 0;
        }

        public static Set<HandshakeFlag> fromBits(int bits) {
            EnumSet<HandshakeFlag> set = EnumSet.noneOf(HandshakeFlag.class);
            for (HandshakeFlag f : values()) {
                if (f.in(bits)) {
                    set.add(f);
                }
            }
            return set;
        }
    }

    /** Client flags, 32 bits (proto.md "Client flags"); any other bit makes the server hang up. */
    public enum ClientFlag {
        FIXED_NEWSTYLE(0),
        NO_ZEROES(1);

        private static final int KNOWN = FIXED_NEWSTYLE.bit | NO_ZEROES.bit;

        private final int bit;

        ClientFlag(int shift) {
            this.bit = 1 << shift;
        }

        public int code() {
            return bit;
        }

        public boolean in(int bits) {
            return (bits & bit) != 0;
        }

        /** The bits of {@code bits} that name no client flag; nonzero means the client broke the protocol. */
        public static int unknownBits(int bits) {
            return bits & ~KNOWN;
        }

        public static Set<ClientFlag> fromBits(int bits) {
            EnumSet<ClientFlag> set = EnumSet.noneOf(ClientFlag.class);
            for (ClientFlag f : values()) {
                if (f.in(bits)) {
                    set.add(f);
                }
            }
            return set;
        }
    }

    /** Option types, 32 bits (proto.md "Option types"). */
    public enum OptionType {
        EXPORT_NAME(1),
        ABORT(2),
        LIST(3),
        PEEK_EXPORT(4),
        STARTTLS(5),
        INFO(6),
        GO(7),
        STRUCTURED_REPLY(8),
        LIST_META_CONTEXT(9),
        SET_META_CONTEXT(10),
        EXTENDED_HEADERS(11),
        UNKNOWN(-1);

        private static final OptionType[] BY_CODE = byCode(values(), OptionType::code, new OptionType[12]);

        private final int code;

        OptionType(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        public static OptionType fromCode(int code) {
            return code >= 0 && code < BY_CODE.length && BY_CODE[code] != null ? BY_CODE[code] : UNKNOWN;
        }
    }

    /** Option reply types, 32 bits (proto.md "Option reply types"); errors have bit 31 set. */
    public enum OptionReplyType {
        ACK(1),
        SERVER(2),
        INFO(3),
        META_CONTEXT(4),
        ERR_UNSUP(0x80000001),
        ERR_POLICY(0x80000002),
        ERR_INVALID(0x80000003),
        ERR_PLATFORM(0x80000004),
        ERR_TLS_REQD(0x80000005),
        ERR_UNKNOWN(0x80000006),
        ERR_SHUTDOWN(0x80000007),
        ERR_BLOCK_SIZE_REQD(0x80000008),
        ERR_TOO_BIG(0x80000009),
        /** Not a wire value (0xffffffff is unassigned): stands for any code this server does not know. */
        UNKNOWN(-1);

        private final int code;

        OptionReplyType(int code) {
            this.code = code;
        }

        /** The 32-bit wire value; error codes are negative as a Java int. */
        public int code() {
            return code;
        }

        public boolean isError() {
            return code < 0 && this != UNKNOWN;
        }

        public static OptionReplyType fromCode(int code) {
            for (OptionReplyType t : values()) {
                if (t.code == code && t != UNKNOWN) {
                    return t;
                }
            }
            return UNKNOWN;
        }
    }

    /** Information types of {@code NBD_REP_INFO}, 16 bits (proto.md under {@code NBD_REP_INFO}). */
    public enum InfoType {
        EXPORT(0),
        NAME(1),
        DESCRIPTION(2),
        BLOCK_SIZE(3),
        UNKNOWN(-1);

        private static final InfoType[] BY_CODE = byCode(values(), InfoType::code, new InfoType[4]);

        private final int code;

        InfoType(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        public static InfoType fromCode(int code) {
            return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : UNKNOWN;
        }
    }

    /** Structured reply chunk types, 16 bits (proto.md "Structured reply types"); errors have bit 15 set. */
    public enum ReplyType {
        NONE(0),
        OFFSET_DATA(1),
        OFFSET_HOLE(2),
        BLOCK_STATUS(5),
        ERROR(0x8001),
        ERROR_OFFSET(0x8002),
        UNKNOWN(-1);

        private final int code;

        ReplyType(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        public boolean isError() {
            return code >= 0 && (code & 0x8000) != 0;
        }

        public static ReplyType fromCode(int code) {
            for (ReplyType t : values()) {
                if (t.code == code && t != UNKNOWN) {
                    return t;
                }
            }
            return UNKNOWN;
        }
    }

    /** Structured reply flags, 16 bits (proto.md "Structured reply flags"). */
    public enum ReplyFlag {
        DONE(0);

        private final int bit;

        ReplyFlag(int shift) {
            this.bit = 1 << shift;
        }

        public int code() {
            return bit;
        }

        public boolean in(int bits) {
            return (bits & bit) != 0;
        }

        public static Set<ReplyFlag> fromBits(int bits) {
            return DONE.in(bits) ? EnumSet.of(DONE) : EnumSet.noneOf(ReplyFlag.class);
        }
    }

    /** A dense code → constant table, so decoding a code allocates nothing. */
    private static <E extends Enum<E>> E[] byCode(E[] values, java.util.function.ToIntFunction<E> code, E[] table) {
        for (E e : values) {
            int c = code.applyAsInt(e);
            if (c >= 0 && c < table.length) {
                table[c] = e;
            }
        }
        return table;
    }
}
