package io.parityd.link;

import java.nio.charset.StandardCharsets;

/**
 * The wire format of parityd's internal links (front ↔ controller, controller ↔ controller), version 2,
 * in one place: every constant the codec and the handshake use, and the layout of every body.
 *
 * <pre>
 * Frame, big-endian:
 *
 *   0               2       3       4                               8
 *   +---------------+-------+-------+-------------------------------+------------------------+
 *   | magic 0x5044  | ver 2 | type  | body length (u32)             | body                   |
 *   | "PD"          |  u8   |  u8   | at most MAX_BODY (33 MiB)     | (body length bytes)    |
 *   +---------------+-------+-------+-------------------------------+------------------------+
 *
 * Body field types:
 *   u8, i32, i64   big-endian integers
 *   str            u16 byte count, then that many bytes of UTF-8 (at most MAX_STRING = 1024)
 *   uuid           16 bytes: most significant long, then least significant long
 *   bytes[n]       exactly n bytes
 *   data           every byte left in the body (payload-carrying messages only)
 *
 * Bodies by type (code):
 *   HELLO (1)            kind u8 | nodeId str | arrayUuid uuid | bootId str | pid i64 | nonce bytes[32]
 *                        | role i32 | epoch i64 | inSyncEpoch i64 | highestSeq i64 | address str
 *   AUTH (2)             mac bytes[32]                    HMAC-SHA256, see LinkHandshake
 *   REFUSE (3)           reason str
 *   REQUEST (10)         seq i64 | command u8 | flags i32 | offset i64 | length i64 | data
 *   REPLY (11)           seq i64 | status i32 | detail str | data
 *   HEARTBEAT (20)       sentNanos i64 | echoNanos i64 | epoch i64 | role i32 | highestSeq i64 | leaseMillis i64
 *   ASSIGN (21)          epoch i64 | role i32 | primaryAddress str | fromSeq i64
 *   ASSIGNED (22)        epoch i64 | role i32 | highestSeq i64 | detail str
 *   RECEIVED (30)        seq i64
 *   RETIRED (31)         throughSeq i64
 *   FINISHED (32)        count i32 | seq i64 × count (count ≤ 65536)   primary → standby: writes on
 *                        the members, not yet synced (a promotion on the same boot resyncs the rest)
 *   CATCH_UP_RECORD (40) seq i64 | command u8 | flags i32 | offset i64 | length i64 | data
 *                        primary → standby: a record the standby must hold, copied at its join
 *                        or journaled since; with FLAG_COMMAND_ONLY a WRITE names its range only
 *   CATCH_UP_END (41)    throughSeq i64
 *   CATCH_UP_REQUEST (42) epoch i64 | journalMode u8    a joining standby asks its primary
 *   PREIMAGE (43)        id i64 | ownerSeq i64 | offset i64 | data     primary → standby, before a degraded stripe
 *   PREIMAGE_HELD (44)   id i64                           standby → primary, once durable
 *   PEER_LOST (50)       epoch i64 | detail str          the primary tells the front its standby is silent
 *   ARRAY_INFO (51)      arrayUuid uuid | name str | size i64 | description str
 * </pre>
 *
 * A body must parse exactly: a missing field, a byte left over, an unknown enum code or an overlong
 * string breaks the stream. {@code data} is non-empty only for a WRITE (where its size equals
 * {@code length}) and for a successful reply (status {@link #STATUS_OK}).
 */
public final class LinkFormat {

    /** "PD". */
    public static final int MAGIC = 0x5044;
    /**
     * The only version this node speaks; a frame of any other version breaks the stream. 2: the
     * handshake's MAC names the sender's side (version 1's could be relayed).
     */
    public static final int VERSION = 2;

    public static final int MAGIC_OFFSET = 0;
    public static final int VERSION_OFFSET = 2;
    public static final int TYPE_OFFSET = 3;
    public static final int LENGTH_OFFSET = 4;
    public static final int HEADER_LENGTH = 8;

    /** Largest data a request, record or reply carries: the largest I/O the front forwards whole. */
    public static final int MAX_DATA = 32 << 20;
    /** Largest body: {@link #MAX_DATA} plus room for the fields in front of it. */
    public static final int MAX_BODY = 33 << 20;
    /** Longest string field, in UTF-8 bytes. */
    public static final int MAX_STRING = 1024;

    /** Size of a Hello's nonce: fresh random bytes for each connection. */
    public static final int NONCE_LENGTH = 32;
    /** Size of an Auth's HMAC-SHA256. */
    public static final int MAC_LENGTH = 32;
    /** Prefix of every HMAC input, so a MAC made for this protocol version means nothing elsewhere. */
    static final byte[] MAC_LABEL = "parityd-link-2".getBytes(StandardCharsets.US_ASCII);

    /*
     * Request and catch-up record flags are io.parityd.nvram.WriteFlags (FUA 1, MAY_DEALLOCATE 2,
     * FAST_ONLY 4), the same bits the journal keeps; this one is the link's own.
     */
    /**
     * A record of a commands journal: a WRITE that names its range and carries no data (the
     * front holds the data; the standby needs only where the primary may be writing).
     */
    public static final int FLAG_COMMAND_ONLY = 8;

    /** Reply status of success; every other value is defined by the caller. */
    public static final int STATUS_OK = 0;

    private LinkFormat() {
    }
}
