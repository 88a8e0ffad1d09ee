package io.parityd.admin;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.parityd.unix.SocketFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The operator's end of the admin socket: one connection per request, one request, one response.
 * Every way it can fail ends in an {@link AdminException} whose message says what is wrong and
 * what to do: no daemon at the path, a stale socket, a caller the daemon refuses, a daemon of
 * another protocol version, or the daemon's own refusal of the request.
 */
public final class AdminClient {

    /** How long to wait for an answer: requests start work in the background and return at once. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final Path socket;
    private final Duration timeout;
    private final ObjectMapper json = new ObjectMapper();

    public AdminClient(Path socket) {
        this(socket, DEFAULT_TIMEOUT);
    }

    public AdminClient(Path socket, Duration timeout) {
        this.socket = socket.toAbsolutePath();
        this.timeout = timeout;
    }

    public Path socket() {
        return socket;
    }

    public ArrayStatus status() throws AdminException {
        return StatusJson.fromJson(call(new AdminRequest.Status()).get(AdminProtocol.STATUS));
    }

    /**
     * @param member an absolute path or a slot number
     * @param force  fail it even if the array cannot lose it (it then fails)
     */
    public void fail(String member, boolean force) throws AdminException {
        call(new AdminRequest.Fail(member, force));
    }

    /** @param member an absolute path or a slot number */
    public void replace(String member, Path replacement) throws AdminException {
        call(new AdminRequest.Replace(member, replacement.toAbsolutePath().normalize().toString()));
    }

    public void reAdd(Path member) throws AdminException {
        call(new AdminRequest.ReAdd(member.toAbsolutePath().normalize().toString()));
    }

    public void addSpare(Path spare) throws AdminException {
        call(new AdminRequest.AddSpare(spare.toAbsolutePath().normalize().toString()));
    }

    public void scrub(boolean repair) throws AdminException {
        call(new AdminRequest.Scrub(repair));
    }

    /** Sends {@code request}, returns the daemon's successful response; anything else throws. */
    JsonNode call(AdminRequest request) throws AdminException {
        JsonNode response = parse(exchange(request.toJson().toString()));
        int version = AdminProtocol.versionOf(response);
        if (version != AdminProtocol.VERSION) {
            throw new AdminException("the parityd on " + socket + " speaks admin protocol "
                    + (version < 0 ? "(none named)" : version) + ", this command speaks " + AdminProtocol.VERSION
                    + "; use the parityd command of the version that runs the daemon, or restart the daemon after an upgrade");
        }
        JsonNode ok = response.get(AdminProtocol.OK);
        if (ok == null || !ok.isBoolean()) {
            throw new AdminException("the parityd on " + socket + " answered without saying whether it succeeded: " + response);
        }
        if (!ok.booleanValue()) {
            JsonNode error = response.get(AdminProtocol.ERROR);
            throw new AdminException(error == null ? "the parityd on " + socket + " refused without saying why" : error.asText());
        }
        return response;
    }

    private JsonNode parse(String line) throws AdminException {
        try {
            JsonNode node = json.readTree(line);
            if (node != null && node.isObject()) {
                return node;
            }
        } catch (JacksonException e) {
            // fall through: the same message for anything that is not a JSON object
        }
        throw new AdminException("the parityd on " + socket + " answered something that is not a response: "
                + abbreviate(line) + "; is it a parityd admin socket?");
    }

    /** Connects, writes one line, reads one line (without its newline). */
    private String exchange(String requestLine) throws AdminException {
        checkSocketFile();
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            connect(channel);
            IOException writeFailure = null;
            try {
                ByteBuffer out = ByteBuffer.wrap((requestLine + "\n").getBytes(StandardCharsets.UTF_8));
                while (out.hasRemaining()) {
                    channel.write(out);
                }
            } catch (IOException e) {
                // A daemon that refuses the caller answers at once and closes, perhaps before the
                // request is written; its answer says why, so read it before reporting the write.
                writeFailure = e;
            }
            try {
                return readLine(channel);
            } catch (IOException | AdminException e) {
                if (writeFailure != null) {
                    throw writeFailure;
                }
                throw e;
            }
        } catch (IOException e) {
            throw new AdminException("talking to the parityd on " + socket + " failed: " + e.getMessage(), e);
        }
    }

    private void checkSocketFile() throws AdminException {
        try {
            if (!SocketFile.isSocket(socket.toRealPath())) {
                throw new AdminException(socket + " is not a socket; give the admin socket of a running parityd with --admin-socket");
            }
        } catch (NoSuchFileException e) {
            throw new AdminException("no parityd serves '" + AdminPaths.arrayNameOf(socket) + "' here: " + socket
                    + " does not exist; is the array being served? (parityd serve … --admin-socket " + socket + ")");
        } catch (AccessDeniedException e) {
            throw denied(); // the directory is 0700 and not ours
        } catch (IOException e) {
            throw new AdminException("cannot look at " + socket + ": " + e.getMessage(), e);
        }
    }

    private void connect(SocketChannel channel) throws AdminException {
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (ConnectException e) {
            throw new AdminException("no parityd answers on " + socket + " (connection refused): the daemon that made it "
                    + "has stopped; start it again with parityd serve (it replaces the stale socket)", e);
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("Permission denied")) {
                throw denied();
            }
            throw new AdminException("cannot connect to " + socket + ": " + e.getMessage(), e);
        }
    }

    private AdminException denied() {
        return new AdminException("only root or the user running parityd may use " + socket
                + "; run the command as that user or with sudo");
    }

    /** Reads up to a newline, within the timeout, at most {@link AdminProtocol#MAX_RESPONSE_BYTES}. */
    private String readLine(SocketChannel channel) throws IOException, AdminException {
        channel.configureBlocking(false);
        long deadline = System.nanoTime() + timeout.toNanos();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        try (Selector selector = Selector.open()) {
            channel.register(selector, SelectionKey.OP_READ);
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AdminException("the parityd on " + socket + " did not answer within "
                            + (timeout.toMillis() < 1000 ? timeout.toMillis() + " ms" : timeout.toSeconds() + " s")
                            + "; it may be stuck: see its log");
                }
                selector.select(Math.max(1, left / 1_000_000));
                selector.selectedKeys().clear();
                buffer.clear();
                int n = channel.read(buffer);
                if (n < 0) {
                    throw new AdminException("the parityd on " + socket + " closed the connection without answering"
                            + (line.size() > 0 ? " in full" : "") + "; see its log");
                }
                for (int i = 0; i < n; i++) {
                    byte b = buffer.get(i);
                    if (b == '\n') {
                        return line.toString(StandardCharsets.UTF_8);
                    }
                    line.write(b);
                }
                if (line.size() > AdminProtocol.MAX_RESPONSE_BYTES) {
                    throw new AdminException("the parityd on " + socket + " answered more than "
                            + AdminProtocol.MAX_RESPONSE_BYTES + " bytes in one line; is it a parityd admin socket?");
                }
            }
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "…";
    }

    @Override
    public String toString() {
        return "AdminClient[" + socket + "]";
    }
}
