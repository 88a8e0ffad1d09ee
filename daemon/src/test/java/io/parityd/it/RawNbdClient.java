package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A deliberately small, blocking NBD client for tests that must send exactly the bytes they
 * choose, including malformed ones no real client would send. Everything is written by hand
 * from proto.md; it shares no code with the server, so it cannot share its mistakes.
 */
final class RawNbdClient implements AutoCloseable {

    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;
    static final int REP_ACK = 1;
    static final int REP_INFO = 3;
    static final int REP_ERR_UNSUP = 0x80000001;
    static final int REP_ERR_UNKNOWN = 0x80000006;
    static final int INFO_EXPORT = 0;
    static final int INFO_BLOCK_SIZE = 3;

    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_CACHE = 5;
    static final int CMD_WRITE_ZEROES = 6;
    static final int FLAG_FUA = 1;

    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int EPERM = 1;

    private final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;
    long exportSize;
    int transmissionFlags;
    boolean structured;

    private RawNbdClient(Socket socket) throws IOException {
        this.socket = socket;
        this.socket.setSoTimeout(30_000);
        // Requests go out in pieces (header, then payload): without this, Nagle holds each next
        // piece for the server's delayed ACK, 40 ms a request, as libnbd's TCP_NODELAY avoids.
        this.socket.setTcpNoDelay(true);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = new DataOutputStream(socket.getOutputStream());
    }

    /** Connects to the host and port of an {@code nbd://host:port/name} URI; no handshake yet. */
    static RawNbdClient connect(String nbdUri) throws IOException {
        URI u = URI.create(nbdUri);
        return new RawNbdClient(new Socket(u.getHost(), u.getPort()));
    }

    /** Connects and negotiates into transmission: fixed newstyle, NO_ZEROES, optionally structured replies, then GO. */
    static RawNbdClient open(String nbdUri, String exportName, boolean structuredReplies) throws IOException {
        RawNbdClient c = connect(nbdUri);
        c.greeting();
        c.out.writeInt(3); // FIXED_NEWSTYLE | NO_ZEROES
        if (structuredReplies) {
            c.option(OPT_STRUCTURED_REPLY, new byte[0]);
            assertThat(c.optionReply().type()).isEqualTo(REP_ACK);
            c.structured = true;
        }
        c.go(exportName);
        return c;
    }

    void greeting() throws IOException {
        assertThat(in.readLong()).as("NBDMAGIC").isEqualTo(NBDMAGIC);
        assertThat(in.readLong()).as("IHAVEOPT").isEqualTo(IHAVEOPT);
        assertThat(in.readUnsignedShort() & 3).as("FIXED_NEWSTYLE|NO_ZEROES").isEqualTo(3);
    }

    void option(int option, byte[] data) throws IOException {
        out.writeLong(IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    record OptionReply(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    OptionReply optionReply() throws IOException {
        assertThat(in.readLong()).as("option reply magic").isEqualTo(OPTION_REPLY_MAGIC);
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    /** NBD_OPT_GO asking for block sizes; reads replies up to the ACK. */
    void go(String name) throws IOException {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2);
        b.putInt(n.length).put(n).putShort((short) 1).putShort((short) INFO_BLOCK_SIZE);
        option(OPT_GO, b.array());
        while (true) {
            OptionReply r = optionReply();
            if (r.type() == REP_ACK) {
                return;
            }
            assertThat(r.type()).as("GO reply for '%s': %s", name, r.text()).isEqualTo(REP_INFO);
            ByteBuffer d = ByteBuffer.wrap(r.data());
            if (d.getShort() == INFO_EXPORT) {
                exportSize = d.getLong();
                transmissionFlags = d.getShort() & 0xffff;
            }
        }
    }

    void request(int flags, int type, long cookie, long offset, long length, byte[] payload) throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt((int) length);
        if (payload != null) {
            out.write(payload);
        }
        out.flush();
    }

    /** A reply as the test sees it: the errno (0 for success), the cookie, and data for reads. */
    record Reply(long cookie, int error, byte[] data, String message) {
    }

    /** Reads one complete reply; {@code readLength} is the data a successful simple READ reply carries. */
    Reply reply(int readLength) throws IOException {
        int magic = in.readInt();
        if (magic == SIMPLE_REPLY_MAGIC) {
            int error = in.readInt();
            long cookie = in.readLong();
            byte[] data = new byte[error == 0 ? readLength : 0];
            in.readFully(data);
            return new Reply(cookie, error, data, "");
        }
        assertThat(magic).as("reply magic").isEqualTo(STRUCTURED_REPLY_MAGIC);
        return structuredReply();
    }

    private Reply structuredReply() throws IOException {
        ByteBuffer assembled = ByteBuffer.allocate(0);
        while (true) {
            int flags = in.readUnsignedShort();
            int type = in.readUnsignedShort();
            long cookie = in.readLong();
            byte[] payload = new byte[in.readInt()];
            in.readFully(payload);
            ByteBuffer p = ByteBuffer.wrap(payload);
            if (type == 0x8001) {
                int error = p.getInt();
                byte[] msg = new byte[p.getShort() & 0xffff];
                p.get(msg);
                assertThat(flags & 1).as("ERROR chunk is final").isEqualTo(1);
                return new Reply(cookie, error, new byte[0], new String(msg, StandardCharsets.UTF_8));
            }
            if (type == 1) {
                p.getLong();
                byte[] d = new byte[p.remaining()];
                p.get(d);
                assembled = ByteBuffer.allocate(assembled.capacity() + d.length).put(assembled.array()).put(d);
            }
            if ((flags & 1) != 0) {
                return new Reply(cookie, 0, assembled.array(), "");
            }
            assertThat(in.readInt()).as("next chunk magic").isEqualTo(STRUCTURED_REPLY_MAGIC);
        }
    }

    byte[] read(long offset, int length) throws IOException {
        request(0, CMD_READ, offset ^ 0x5eed, offset, length, null);
        Reply r = reply(length);
        assertThat(r.error()).as("read at %d: %s", offset, r.message()).isZero();
        assertThat(r.cookie()).isEqualTo(offset ^ 0x5eed);
        return r.data();
    }

    void write(long offset, byte[] data) throws IOException {
        request(0, CMD_WRITE, offset ^ 0x3333, offset, data.length, data);
        Reply r = reply(0);
        assertThat(r.error()).as("write at %d: %s", offset, r.message()).isZero();
    }

    /**
     * True if the server closes the connection within {@code timeout}: the read sees end of
     * stream or a reset. Anything the server still sends first is skipped.
     */
    boolean closedByServer(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
        try {
            byte[] sink = new byte[65536];
            while (in.read(sink) >= 0) {
                // skip whatever was in flight
            }
            return true;
        } catch (EOFException | SocketException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
