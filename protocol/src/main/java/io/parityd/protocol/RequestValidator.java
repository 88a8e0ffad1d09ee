package io.parityd.protocol;

/**
 * Decides whether a request may reach storage, before anything executes it (nbdkit's
 * {@code validate_request}): command and flags against what the handshake advertised, read-only
 * exports, alignment to the minimum block size, the maximum size, and the export's bounds (proto.md
 * "Request types", "Command flags", "Block size constraints", "Error values"). The happy path
 * allocates nothing; a refusal carries the errno for the client and a precise reason for the log
 * and for structured error chunks.
 *
 * <p>Zero-length READ, WRITE, TRIM and WRITE_ZEROES inside the export are valid (the spec says a
 * server SHOULD NOT disconnect over them); whoever executes them answers success without touching
 * storage. A refused {@code NBD_CMD_DISC} still ends the connection: DISC has no reply.
 */
public final class RequestValidator {

    private static final int FUA = CommandFlag.FUA.bit();

    private RequestValidator() {
    }

    /** Null when {@code request} may be executed in {@code session}; otherwise why not. */
    public static Refusal validate(NbdRequest request, Session session) {
        return switch (request.type()) {
            case READ -> validateRead(request, session);
            case WRITE -> validateWrite(request, session);
            case TRIM -> validateTrim(request, session);
            case WRITE_ZEROES -> validateWriteZeroes(request, session);
            case FLUSH -> validateFlush(request, session);
            case DISC -> validateDisc(request, session);
            case CACHE -> validateCache(request, session);
            case BLOCK_STATUS, RESIZE -> notOffered(request);
            case UNKNOWN -> unknown(request);
        };
    }

    private static Refusal validateRead(NbdRequest r, Session s) {
        int allowed = fua(s) | (s.has(TransmissionFlag.SEND_DF) ? CommandFlag.DF.bit() : 0);
        Refusal refusal = flags(r, allowed);
        if (refusal == null) {
            refusal = aligned(r, s);
        }
        if (refusal == null) {
            refusal = withinMaximum(r, s);
        }
        if (refusal == null) {
            refusal = inBounds(r, s, NbdError.EINVAL);
        }
        return refusal;
    }

    /** A prefetch hint: what a READ of the range may be, without DF (it returns no data). */
    private static Refusal validateCache(NbdRequest r, Session s) {
        Refusal refusal = advertised(r, s, TransmissionFlag.SEND_CACHE);
        if (refusal == null) {
            refusal = flags(r, fua(s));
        }
        if (refusal == null) {
            refusal = aligned(r, s);
        }
        if (refusal == null) {
            refusal = withinMaximum(r, s);
        }
        if (refusal == null) {
            refusal = inBounds(r, s, NbdError.EINVAL);
        }
        return refusal;
    }

    private static Refusal validateWrite(NbdRequest r, Session s) {
        Refusal refusal = flags(r, fua(s));
        if (refusal == null) {
            refusal = writable(r, s);
        }
        if (refusal == null && r.payloadDropped()) {
            refusal = tooLarge(r, s);
        }
        if (refusal == null) {
            refusal = aligned(r, s);
        }
        if (refusal == null) {
            refusal = withinMaximum(r, s);
        }
        if (refusal == null) {
            refusal = inBounds(r, s, NbdError.ENOSPC);
        }
        return refusal;
    }

    /** TRIM may be any length: it carries no payload, and the spec sets no maximum for it. */
    private static Refusal validateTrim(NbdRequest r, Session s) {
        Refusal refusal = advertised(r, s, TransmissionFlag.SEND_TRIM);
        if (refusal == null) {
            refusal = flags(r, fua(s));
        }
        if (refusal == null) {
            refusal = writable(r, s);
        }
        if (refusal == null) {
            refusal = aligned(r, s);
        }
        if (refusal == null) {
            refusal = inBounds(r, s, NbdError.EINVAL);
        }
        return refusal;
    }

    /** Longer than the maximum block size is fine: zeroing carries no payload, and we zero efficiently. */
    private static Refusal validateWriteZeroes(NbdRequest r, Session s) {
        Refusal refusal = advertised(r, s, TransmissionFlag.SEND_WRITE_ZEROES);
        if (refusal == null) {
            int allowed = fua(s) | CommandFlag.NO_HOLE.bit()
                    | (s.has(TransmissionFlag.SEND_FAST_ZERO) ? CommandFlag.FAST_ZERO.bit() : 0);
            refusal = flags(r, allowed);
        }
        if (refusal == null) {
            refusal = writable(r, s);
        }
        if (refusal == null) {
            refusal = aligned(r, s);
        }
        if (refusal == null) {
            refusal = inBounds(r, s, NbdError.ENOSPC);
        }
        return refusal;
    }

    private static Refusal validateFlush(NbdRequest r, Session s) {
        Refusal refusal = advertised(r, s, TransmissionFlag.SEND_FLUSH);
        if (refusal == null) {
            refusal = flags(r, fua(s));
        }
        if (refusal == null) {
            refusal = zeroRange(r);
        }
        return refusal;
    }

    private static Refusal validateDisc(NbdRequest r, Session s) {
        Refusal refusal = flags(r, fua(s));
        return refusal != null ? refusal : zeroRange(r);
    }

    private static int fua(Session s) {
        return s.has(TransmissionFlag.SEND_FUA) ? FUA : 0;
    }

    private static Refusal notOffered(NbdRequest r) {
        String why = r.type() == CommandType.BLOCK_STATUS
                ? "BLOCK_STATUS needs a metadata context and this server offers none"
                : r.type() + " is not offered by this server";
        return new Refusal(NbdError.EINVAL, why);
    }

    private static Refusal unknown(NbdRequest r) {
        return new Refusal(NbdError.EINVAL, "unknown command " + r.typeCode());
    }

    private static Refusal advertised(NbdRequest r, Session s, TransmissionFlag flag) {
        if (s.has(flag)) {
            return null;
        }
        return new Refusal(NbdError.EINVAL, r.type() + " was not advertised (NBD_FLAG_" + flag + " is clear)");
    }

    private static Refusal flags(NbdRequest r, int allowed) {
        int bad = r.flags() & ~allowed;
        if (bad == 0) {
            return null;
        }
        return new Refusal(NbdError.EINVAL, String.format("command flags 0x%04x (%s) are not valid on %s here",
                bad, flagNames(bad), r.type()));
    }

    private static String flagNames(int bits) {
        StringBuilder names = new StringBuilder();
        int rest = bits;
        for (CommandFlag f : CommandFlag.values()) {
            if (f.in(bits)) {
                names.append(names.length() == 0 ? "" : "|").append(f);
                rest &= ~f.bit();
            }
        }
        if (rest != 0) {
            names.append(names.length() == 0 ? "" : "|").append(String.format("unknown 0x%04x", rest));
        }
        return names.toString();
    }

    private static Refusal writable(NbdRequest r, Session s) {
        if (!s.has(TransmissionFlag.READ_ONLY)) {
            return null;
        }
        return new Refusal(NbdError.EPERM, verb(r) + " on read-only export '" + s.export().name() + "'");
    }

    private static Refusal tooLarge(NbdRequest r, Session s) {
        return new Refusal(NbdError.EINVAL, "write of " + r.length() + " bytes exceeds the maximum payload of "
                + s.export().blockSizes().maximum());
    }

    private static Refusal aligned(NbdRequest r, Session s) {
        int minimum = s.export().blockSizes().minimum();
        // minimum is a power of two; the mask test also holds for offsets >= 2^63 (negative here).
        if (((r.offset() | r.length()) & (minimum - 1)) == 0) {
            return null;
        }
        return new Refusal(NbdError.EINVAL, verb(r) + " of " + r.length() + " bytes at "
                + Long.toUnsignedString(r.offset()) + " is not aligned to the minimum block size " + minimum);
    }

    private static Refusal withinMaximum(NbdRequest r, Session s) {
        int maximum = s.export().blockSizes().maximum();
        if (r.length() <= maximum) {
            return null;
        }
        return new Refusal(NbdError.EINVAL, verb(r) + " of " + r.length() + " bytes exceeds the maximum block size "
                + maximum);
    }

    /** Offset is unsigned and offset + length may pass 2^64: compare without adding. */
    private static Refusal inBounds(NbdRequest r, Session s, NbdError error) {
        long size = s.export().size();
        if (Long.compareUnsigned(r.offset(), size) <= 0 && r.length() <= size - r.offset()) {
            return null;
        }
        return new Refusal(error, verb(r) + " of " + r.length() + " bytes at " + Long.toUnsignedString(r.offset())
                + " ends past the export size " + size);
    }

    private static Refusal zeroRange(NbdRequest r) {
        if (r.offset() == 0 && r.length() == 0) {
            return null;
        }
        return new Refusal(NbdError.EINVAL, r.type() + " must have offset and length 0, got offset "
                + Long.toUnsignedString(r.offset()) + " length " + r.length());
    }

    private static String verb(NbdRequest r) {
        return switch (r.type()) {
            case READ -> "read";
            case WRITE -> "write";
            case TRIM -> "trim";
            case WRITE_ZEROES -> "write-zeroes";
            default -> r.type().toString();
        };
    }
}
