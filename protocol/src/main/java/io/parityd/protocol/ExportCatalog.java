package io.parityd.protocol;

import java.util.List;
import java.util.Optional;

/** The exports a server offers, as the handshake sees them. Called on the event loop: must not block. */
public interface ExportCatalog {

    /** The export the client named; the empty name means the default export. Empty if there is none. */
    Optional<ExportInfo> find(String name);

    /** Every export, in the order {@code NBD_OPT_LIST} should name them. */
    List<ExportInfo> list();

    /** True once the server is shutting down: options are then refused with {@code NBD_REP_ERR_SHUTDOWN}. */
    default boolean shuttingDown() {
        return false;
    }
}
