package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Parses one complete body as {@link LinkFormat} lays it out, one method per type. A body must parse
 * exactly: every failure is a {@link LinkProtocolException} that names the type, the field and the
 * offending value. Data becomes a retained slice of the body, never a copy.
 */
final class BodyReader {

    private final MessageType type;
    private final ByteBuf body;
    private final int start;

    private BodyReader(MessageType type, ByteBuf body) {
        this.type = type;
        this.body = body;
        this.start = body.readerIndex();
    }

    /** The message in {@code body}, which holds exactly one body and is read to its end. */
    static LinkMessage read(MessageType type, ByteBuf body) {
        BodyReader r = new BodyReader(type, body);
        LinkMessage message = switch (type) {
            case HELLO -> r.hello();
            case AUTH -> new Auth(r.bytes("mac", LinkFormat.MAC_LENGTH));
            case REFUSE -> new Refuse(r.string("reason"));
            case REQUEST -> r.request();
            case REPLY -> r.reply();
            case HEARTBEAT -> new Heartbeat(r.i64("sentNanos"), r.i64("echoNanos"), r.i64("epoch"), r.i32("role"),
                    r.i64("highestSeq"), r.i64("leaseMillis"));
            case ASSIGN -> new Assign(r.i64("epoch"), r.i32("role"), r.string("primaryAddress"), r.i64("fromSeq"));
            case ASSIGNED -> new Assigned(r.i64("epoch"), r.i32("role"), r.i64("highestSeq"), r.string("detail"));
            case RECEIVED -> new Received(r.i64("seq"));
            case RETIRED -> new Retired(r.i64("throughSeq"));
            case FINISHED -> r.finished();
            case CATCH_UP_RECORD -> r.catchUpRecord();
            case CATCH_UP_END -> new CatchUpEnd(r.i64("throughSeq"));
            case CATCH_UP_REQUEST -> new CatchUpRequest(r.i64("epoch"), r.u8("journalMode"));
            case PREIMAGE -> r.preimage();
            case PREIMAGE_HELD -> new PreimageHeld(r.i64("id"));
            case PEER_LOST -> new PeerLost(r.i64("epoch"), r.string("detail"));
            case ARRAY_INFO -> new ArrayInfo(r.uuid("arrayUuid"), r.string("name"), r.i64("size"), r.string("description"));
        };
        // Data-carrying messages took the rest as data; for the others, anything left is an error.
        if (body.isReadable()) {
            throw r.error(body.readableBytes() + " trailing bytes after the last field (body of "
                    + (body.writerIndex() - r.start) + " bytes)");
        }
        return message;
    }

    private Hello hello() {
        NodeKind kind = nodeKind();
        String nodeId = string("nodeId");
        UUID arrayUuid = uuid("arrayUuid");
        String bootId = string("bootId");
        long pid = i64("pid");
        byte[] nonce = bytes("nonce", LinkFormat.NONCE_LENGTH);
        return new Hello(kind, nodeId, arrayUuid, bootId, pid, nonce, i32("role"), i64("epoch"), i64("inSyncEpoch"),
                i64("highestSeq"), string("address"));
    }

    private Request request() {
        long seq = i64("seq");
        Command command = command();
        int flags = i32("flags");
        long offset = i64("offset");
        long length = i64("length");
        ByteBuf data = data(command, length);
        return new Request(seq, command, flags, offset, length, data);
    }

    private Finished finished() {
        int count = i32("count");
        if (count < 0 || count > Finished.MAX_SEQS) {
            throw error("field count: " + count + " is outside 0.." + Finished.MAX_SEQS);
        }
        if (body.readableBytes() != count * 8L) {
            throw error("field count: " + count + " seqs need " + count * 8L + " bytes, the body has "
                    + body.readableBytes() + " left");
        }
        long[] seqs = new long[count];
        for (int i = 0; i < count; i++) {
            seqs[i] = i64("seq");
        }
        return new Finished(seqs);
    }

    private PreimageRecord preimage() {
        long id = i64("id");
        long ownerSeq = i64("ownerSeq");
        long offset = i64("offset");
        int bytes = body.readableBytes();
        if (bytes == 0) {
            throw error("PREIMAGE carries no data");
        }
        checkDataLimit(bytes);
        return new PreimageRecord(id, ownerSeq, offset, rest());
    }

    private CatchUpRecord catchUpRecord() {
        long seq = i64("seq");
        Command command = command();
        int flags = i32("flags");
        long offset = i64("offset");
        long length = i64("length");
        ByteBuf data = data(command, (flags & LinkFormat.FLAG_COMMAND_ONLY) != 0, length);
        return new CatchUpRecord(seq, command, flags, offset, length, data);
    }

    private Reply reply() {
        long seq = i64("seq");
        int status = i32("status");
        String detail = string("detail");
        int bytes = body.readableBytes();
        if (status != LinkFormat.STATUS_OK && bytes != 0) {
            throw error("reply with status " + status + " carries " + bytes + " bytes of data; only a success may");
        }
        checkDataLimit(bytes);
        return new Reply(seq, status, detail, rest());
    }

    /** The rest of the body as a request's data, checked first so that nothing is retained for an error. */
    private ByteBuf data(Command command, long length) {
        return data(command, false, length);
    }

    /** {@code commandOnly}: a commands journal's record, which carries no data whatever its command. */
    private ByteBuf data(Command command, boolean commandOnly, long length) {
        int bytes = body.readableBytes();
        boolean carries = command.carriesData() && !commandOnly;
        if (!carries && bytes != 0) {
            throw error(command + (commandOnly ? " command" : " request") + " carries " + bytes
                    + " bytes of data (trailing bytes); only a WRITE with its data may");
        }
        if (carries && bytes != length) {
            throw error("WRITE of length " + length + " carries " + bytes + " bytes of data");
        }
        checkDataLimit(bytes);
        return rest();
    }

    private void checkDataLimit(int bytes) {
        if (bytes > LinkFormat.MAX_DATA) {
            throw error(bytes + " bytes of data are over the limit of " + LinkFormat.MAX_DATA);
        }
    }

    private ByteBuf rest() {
        int bytes = body.readableBytes();
        return bytes == 0 ? Unpooled.EMPTY_BUFFER : body.readRetainedSlice(bytes);
    }

    private NodeKind nodeKind() {
        int code = u8("kind");
        try {
            return NodeKind.fromCode(code);
        } catch (IllegalArgumentException e) {
            throw error("field kind: unknown node kind " + code);
        }
    }

    private Command command() {
        int code = u8("command");
        try {
            return Command.fromCode(code);
        } catch (IllegalArgumentException e) {
            throw error("field command: unknown command " + code);
        }
    }

    private int u8(String field) {
        need(field, 1);
        return body.readUnsignedByte();
    }

    private int i32(String field) {
        need(field, 4);
        return body.readInt();
    }

    private long i64(String field) {
        need(field, 8);
        return body.readLong();
    }

    private UUID uuid(String field) {
        need(field, 16);
        return new UUID(body.readLong(), body.readLong());
    }

    private byte[] bytes(String field, int n) {
        need(field, n);
        byte[] bytes = new byte[n];
        body.readBytes(bytes);
        return bytes;
    }

    private String string(String field) {
        need(field, 2);
        int length = body.readUnsignedShort();
        if (length > LinkFormat.MAX_STRING) {
            throw error("field " + field + ": string of " + length + " bytes is over the limit of "
                    + LinkFormat.MAX_STRING);
        }
        need(field, length);
        int at = body.readerIndex();
        // Strict: a Hello must re-encode to the very bytes the peer's MAC covers.
        if (!ByteBufUtil.isText(body, at, length, StandardCharsets.UTF_8)) {
            throw error("field " + field + ": " + length + " bytes are not valid UTF-8");
        }
        String s = body.toString(at, length, StandardCharsets.UTF_8);
        body.skipBytes(length);
        return s;
    }

    private void need(String field, int n) {
        if (body.readableBytes() < n) {
            throw error("body too short: field " + field + " needs " + n + " bytes at offset "
                    + (body.readerIndex() - start) + ", " + body.readableBytes() + " left");
        }
    }

    private LinkProtocolException error(String what) {
        return new LinkProtocolException(type + " body: " + what);
    }
}
