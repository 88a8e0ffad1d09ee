package io.parityd.service;

import io.parityd.nvram.JournalException;
import java.nio.file.Path;

/** What an operator can do about each way a journal is refused; the README's troubleshooting says the same. */
final class JournalFix {

    private JournalFix() {
    }

    static String fixFor(JournalException.Problem problem, Path path) {
        return switch (problem) {
            case MISSING -> "restore " + path + " (or pass the right file with --nvram); if it is lost for good, start"
                    + " with --discard-journal: writes it held may be lost and every stripe is resynced";
            case DAMAGED -> "if no copy of " + path + " is intact, start with --discard-journal: writes it held may be"
                    + " lost and every stripe is resynced";
            case NOT_A_JOURNAL -> "pass the array's journal with --nvram, or move " + path + " aside if it is not needed";
            case NEWER_FORMAT -> "run the parityd that wrote it (or a newer one); this one cannot read it";
            case FOREIGN -> "pass this array's own journal with --nvram; " + path + " belongs to another array and is"
                    + " left untouched";
            case MISMATCH -> "pass the journal this array last ran with via --nvram; if it is lost for good, start with"
                    + " --discard-journal (every stripe is resynced)";
            case LOCKED -> "another parityd is using " + path + "; stop it first, or give this array its own --nvram";
            case IO -> "check that " + path + "'s directory exists and is writable by this user, and that the disk has"
                    + " room (or choose another place with --nvram)";
        };
    }
}
