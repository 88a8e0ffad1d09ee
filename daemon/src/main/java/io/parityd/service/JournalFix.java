package io.parityd.service;

import io.parityd.nvram.JournalException;
import java.nio.file.Path;

/**
 * The second half of a journal refusal for the operator. The journal's own messages already say
 * what to do where only the journal knows (restore the file, --discard-journal, upgrade); the
 * rest is added here, where the command line is known.
 */
final class JournalFix {

    private JournalFix() {
    }

    static String fixFor(JournalException.Problem problem, Path path) {
        return switch (problem) {
            case LOCKED -> "stop the other parityd first, or give this array its own journal with --nvram";
            case IO -> "check that " + path.getParent() + " exists, is writable by this user and has room, or choose"
                    + " another place with --nvram";
            default -> "the README's Troubleshooting section explains this refusal";
        };
    }
}
