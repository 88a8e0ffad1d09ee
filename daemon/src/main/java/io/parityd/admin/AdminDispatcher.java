package io.parityd.admin;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one request line into one response: validate, then execute against the
 * {@link ArrayControl}. Runs on the admin executor, never on an event loop, since the control may
 * write superblocks. Nothing a client sends makes it throw; every refusal is an error response.
 */
final class AdminDispatcher {

    private static final Logger log = LoggerFactory.getLogger(AdminDispatcher.class);

    private final ArrayControl control;
    private final ObjectMapper json;

    AdminDispatcher(ArrayControl control, ObjectMapper json) {
        this.control = control;
        this.json = json;
    }

    ObjectNode handle(String line) {
        AdminRequest request;
        try {
            request = parse(line);
        } catch (AdminException e) {
            log.warn("refused admin request: {}", e.getMessage());
            return AdminProtocol.error(e.getMessage());
        }
        try {
            return execute(request);
        } catch (ControlException | AdminException e) {
            log.info("admin request {} refused: {}", request, e.getMessage());
            return AdminProtocol.error(e.getMessage());
        } catch (RuntimeException e) {
            // A bug in the control must not cost the operator the daemon: answer, log it whole.
            log.error("admin request {} failed", request, e);
            return AdminProtocol.error("parityd failed to carry out " + request + ": " + e
                    + "; the daemon log has the details (please report it)");
        }
    }

    private AdminRequest parse(String line) throws AdminException {
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (JacksonException e) {
            throw new AdminException("a request is one JSON object on one line, e.g. {\"protocol\":"
                    + AdminProtocol.VERSION + ",\"command\":\"status\"}; this is not JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new AdminException("a request is one JSON object on one line, e.g. {\"protocol\":"
                    + AdminProtocol.VERSION + ",\"command\":\"status\"}");
        }
        int version = AdminProtocol.versionOf(node);
        if (version != AdminProtocol.VERSION) {
            throw new AdminException("this parityd speaks admin protocol " + AdminProtocol.VERSION + ", the request "
                    + (version < 0 ? "names none (add \"protocol\":" + AdminProtocol.VERSION + ")" : "uses " + version)
                    + "; use the parityd command of the version that runs the daemon");
        }
        return AdminRequest.fromJson(node);
    }

    private ObjectNode execute(AdminRequest request) throws ControlException, AdminException {
        if (request instanceof AdminRequest.Status) {
            return AdminProtocol.ok(control.status());
        } else if (request instanceof AdminRequest.Fail fail) {
            control.fail(fail.member(), fail.force());
        } else if (request instanceof AdminRequest.Replace replace) {
            control.replace(replace.member(), absolute(replace.replacement(), "replacement"));
        } else if (request instanceof AdminRequest.ReAdd reAdd) {
            control.reAdd(absolute(reAdd.path(), "path"));
        } else if (request instanceof AdminRequest.AddSpare spare) {
            control.addSpare(absolute(spare.path(), "path"));
        } else if (request instanceof AdminRequest.Scrub scrub) {
            control.scrub(scrub.repair());
        } else {
            throw new IllegalStateException("unhandled request " + request);
        }
        return AdminProtocol.ok();
    }

    /** The daemon's working directory is not the operator's, so a relative path would name the wrong file. */
    private static Path absolute(String path, String field) throws AdminException {
        Path p;
        try {
            p = Path.of(path);
        } catch (InvalidPathException e) {
            throw new AdminException("'" + field + "' is not a path: " + e.getMessage());
        }
        if (!p.isAbsolute()) {
            throw new AdminException("'" + field + "' must be an absolute path, got '" + path + "'");
        }
        return p.normalize();
    }
}
