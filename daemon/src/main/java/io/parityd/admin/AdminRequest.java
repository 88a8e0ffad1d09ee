package io.parityd.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** One request over the admin socket, as {@link AdminProtocol} writes it; each knows its JSON form. */
public sealed interface AdminRequest {

    /** Every command name, as the wire and the error for an unknown one spell them. */
    List<String> COMMANDS = List.of("status", "fail", "replace", "re-add", "add-spare", "scrub");

    /** This request as one JSON object, with the protocol version. */
    ObjectNode toJson();

    /** {@code {"command":"status"}}: a snapshot of the array. */
    record Status() implements AdminRequest {
        @Override
        public ObjectNode toJson() {
            return AdminProtocol.message().put(AdminProtocol.COMMAND, "status");
        }
    }

    /**
     * {@code {"command":"fail","member":M,"force":F}}: mark a member faulty; M is an absolute path or
     * a slot number; F (absent: false) also fails one the array cannot lose.
     */
    record Fail(String member, boolean force) implements AdminRequest {
        @Override
        public ObjectNode toJson() {
            ObjectNode json = AdminProtocol.message().put(AdminProtocol.COMMAND, "fail").put("member", member);
            return force ? json.put("force", true) : json;
        }
    }

    /** {@code {"command":"replace","member":M,"replacement":P}}: rebuild M's data onto the absolute path P. */
    record Replace(String member, String replacement) implements AdminRequest {
        @Override
        public ObjectNode toJson() {
            return AdminProtocol.message().put(AdminProtocol.COMMAND, "replace").put("member", member)
                    .put("replacement", replacement);
        }
    }

    /** {@code {"command":"re-add","path":P}}: put the former member at the absolute path P back into its slot. */
    record ReAdd(String path) implements AdminRequest {
        @Override
        public ObjectNode toJson() {
            return AdminProtocol.message().put(AdminProtocol.COMMAND, "re-add").put("path", path);
        }
    }

    /** {@code {"command":"add-spare","path":P}}: add a hot spare at the absolute path P. */
    record AddSpare(String path) implements AdminRequest {
        @Override
        public ObjectNode toJson() {
            return AdminProtocol.message().put(AdminProtocol.COMMAND, "add-spare").put("path", path);
        }
    }

    /** {@code {"command":"scrub","repair":B}}: start a check, or a repair when B is true. */
    record Scrub(boolean repair) implements AdminRequest {
        @Override
        public ObjectNode toJson() {
            return AdminProtocol.message().put(AdminProtocol.COMMAND, "scrub").put("repair", repair);
        }
    }

    /**
     * Reads a request; the protocol version has been checked. The message of a refusal names the
     * missing or wrong field.
     */
    static AdminRequest fromJson(JsonNode request) throws AdminException {
        String command = text(request, AdminProtocol.COMMAND, "the request");
        return switch (command) {
            case "status" -> new Status();
            case "fail" -> new Fail(text(request, "member", command), flag(request, "force", command));
            case "replace" -> new Replace(text(request, "member", command), text(request, "replacement", command));
            case "re-add" -> new ReAdd(text(request, "path", command));
            case "add-spare" -> new AddSpare(text(request, "path", command));
            case "scrub" -> new Scrub(flag(request, "repair", command));
            default -> throw new AdminException("unknown command '" + command + "'; the commands are " + String.join(", ", COMMANDS));
        };
    }

    private static String text(JsonNode request, String field, String what) throws AdminException {
        JsonNode value = request.get(field);
        if (value == null || !value.isTextual() || value.textValue().isEmpty()) {
            throw new AdminException(what + " needs a non-empty string field '" + field + "'");
        }
        return value.textValue();
    }

    /** An optional boolean: absent means false. */
    private static boolean flag(JsonNode request, String field, String what) throws AdminException {
        JsonNode value = request.get(field);
        if (value == null || value.isNull()) {
            return false;
        }
        if (!value.isBoolean()) {
            throw new AdminException(what + ": field '" + field + "' must be true or false");
        }
        return value.booleanValue();
    }
}
