package io.parityd.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

import java.util.UUID;

/**
 * Writes the fields of each body as {@link LinkFormat} lays them out, one method per type. Data is
 * not written here: {@link FrameEncoder} sends it as a buffer of its own, behind the fields.
 */
final class BodyWriter {

    private BodyWriter() {
    }

    static void write(LinkMessage message, ByteBuf out) {
        switch (message.type()) {
            case HELLO -> writeHello((Hello) message, out);
            case AUTH -> out.writeBytes(((Auth) message).macBytes());
            case REFUSE -> writeString(out, ((Refuse) message).reason());
            case REQUEST -> writeRequest((Request) message, out);
            case REPLY -> writeReply((Reply) message, out);
            case HEARTBEAT -> writeHeartbeat((Heartbeat) message, out);
            case ASSIGN -> writeAssign((Assign) message, out);
            case ASSIGNED -> writeAssigned((Assigned) message, out);
            case RECEIVED -> out.writeLong(((Received) message).seq());
            case RETIRED -> out.writeLong(((Retired) message).throughSeq());
            case FINISHED -> {
                Finished f = (Finished) message;
                out.writeInt(f.count());
                for (int i = 0; i < f.count(); i++) {
                    out.writeLong(f.seq(i));
                }
            }
            case CATCH_UP_RECORD -> writeCatchUpRecord((CatchUpRecord) message, out);
            case CATCH_UP_END -> out.writeLong(((CatchUpEnd) message).throughSeq());
            case PREIMAGE -> {
                PreimageRecord p = (PreimageRecord) message;
                out.writeLong(p.id());
                out.writeLong(p.ownerSeq());
                out.writeLong(p.offset());
            }
            case PREIMAGE_HELD -> out.writeLong(((PreimageHeld) message).id());
            case CATCH_UP_REQUEST -> {
                out.writeLong(((CatchUpRequest) message).epoch());
                out.writeByte(((CatchUpRequest) message).journalMode());
            }
            case PEER_LOST -> {
                out.writeLong(((PeerLost) message).epoch());
                writeString(out, ((PeerLost) message).detail());
            }
            case ARRAY_INFO -> {
                ArrayInfo info = (ArrayInfo) message;
                writeUuid(out, info.arrayUuid());
                writeString(out, info.name());
                out.writeLong(info.size());
                writeString(out, info.description());
            }
        }
    }

    /** The one encoding of a Hello: the frame body, and what the handshake MAC covers. */
    static void writeHello(Hello h, ByteBuf out) {
        out.writeByte(h.kind().code());
        writeString(out, h.nodeId());
        writeUuid(out, h.arrayUuid());
        writeString(out, h.bootId());
        out.writeLong(h.pid());
        out.writeBytes(h.nonceBytes());
        out.writeInt(h.role());
        out.writeLong(h.epoch());
        out.writeLong(h.inSyncEpoch());
        out.writeLong(h.highestSeq());
        writeString(out, h.address());
    }

    private static void writeRequest(Request r, ByteBuf out) {
        writeIo(out, r.seq(), r.command(), r.flags(), r.offset(), r.length());
    }

    private static void writeCatchUpRecord(CatchUpRecord r, ByteBuf out) {
        writeIo(out, r.seq(), r.command(), r.flags(), r.offset(), r.length());
    }

    private static void writeIo(ByteBuf out, long seq, Command command, int flags, long offset, long length) {
        out.writeLong(seq);
        out.writeByte(command.code());
        out.writeInt(flags);
        out.writeLong(offset);
        out.writeLong(length);
    }

    private static void writeReply(Reply r, ByteBuf out) {
        out.writeLong(r.seq());
        out.writeInt(r.status());
        writeString(out, r.detail());
    }

    private static void writeHeartbeat(Heartbeat h, ByteBuf out) {
        out.writeLong(h.sentNanos());
        out.writeLong(h.echoNanos());
        out.writeLong(h.epoch());
        out.writeInt(h.role());
        out.writeLong(h.highestSeq());
        out.writeLong(h.leaseMillis());
    }

    private static void writeAssign(Assign a, ByteBuf out) {
        out.writeLong(a.epoch());
        out.writeInt(a.role());
        writeString(out, a.primaryAddress());
        out.writeLong(a.fromSeq());
    }

    private static void writeAssigned(Assigned a, ByteBuf out) {
        out.writeLong(a.epoch());
        out.writeInt(a.role());
        out.writeLong(a.highestSeq());
        writeString(out, a.detail());
    }

    /** u16 byte count, then UTF-8; the records have already checked the length. */
    private static void writeString(ByteBuf out, String s) {
        int at = out.writerIndex();
        out.writeShort(0);
        int bytes = ByteBufUtil.writeUtf8(out, s);
        out.setShort(at, bytes);
    }

    private static void writeUuid(ByteBuf out, UUID uuid) {
        out.writeLong(uuid.getMostSignificantBits());
        out.writeLong(uuid.getLeastSignificantBits());
    }
}
