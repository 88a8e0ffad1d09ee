package io.parityd.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The admin socket's wire format, in one place. One request per line, one response per line,
 * each a JSON object in UTF-8, in order:
 *
 * <pre>
 * request   {"protocol":1,"command":"status"}
 *           {"protocol":1,"command":"fail","member":"/srv/m1.img"}       member: a path or a slot number
 *           {"protocol":1,"command":"replace","member":"1","replacement":"/srv/m9.img"}
 *           {"protocol":1,"command":"add-spare","path":"/srv/s0.img"}
 *           {"protocol":1,"command":"scrub","repair":false}
 * response  {"protocol":1,"ok":true,"status":{...}}                     status: see {@link StatusJson}
 *           {"protocol":1,"ok":true}
 *           {"protocol":1,"ok":false,"error":"what is wrong and what to do"}
 * </pre>
 *
 * <p>Paths are absolute (the daemon's working directory is not the operator's). Every response
 * carries the daemon's {@code protocol}; a request of another version is refused with an error
 * naming both, so a newer command talking to an older daemon says so instead of guessing.
 * Unknown fields are ignored; a version bump is for changes an old peer would misread.
 */
public final class AdminProtocol {

    /** The version this build speaks. */
    public static final int VERSION = 1;

    /**
     * Longest request line the daemon reads, newline excluded. The longest real request is two
     * paths; 64 KiB is far above that and small enough that a runaway client costs nothing.
     */
    public static final int MAX_REQUEST_BYTES = 64 << 10;

    /** Longest response line a client reads: a status of hundreds of members fits many times. */
    public static final int MAX_RESPONSE_BYTES = 4 << 20;

    static final String PROTOCOL = "protocol";
    static final String COMMAND = "command";
    static final String OK = "ok";
    static final String ERROR = "error";
    static final String STATUS = "status";

    private AdminProtocol() {
    }

    /** A message with this build's version, to which a request or response adds its fields. */
    static ObjectNode message() {
        return JsonNodeFactory.instance.objectNode().put(PROTOCOL, VERSION);
    }

    static ObjectNode ok() {
        return message().put(OK, true);
    }

    static ObjectNode ok(ArrayStatus status) {
        ObjectNode reply = ok();
        reply.set(STATUS, StatusJson.toJson(status));
        return reply;
    }

    static ObjectNode error(String message) {
        return message().put(OK, false).put(ERROR, message);
    }

    /** The version a message says it speaks, or -1 when it names none. */
    static int versionOf(JsonNode message) {
        JsonNode v = message.get(PROTOCOL);
        return v != null && v.isInt() ? v.intValue() : -1;
    }
}
