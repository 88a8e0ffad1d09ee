package io.parityd.cli;

import io.parityd.admin.ArrayStatus;
import io.parityd.admin.ArrayStatus.MemberStatus;
import io.parityd.admin.ArrayStatus.ScrubResult;
import io.parityd.admin.ArrayStatus.TaskStatus;
import java.io.PrintWriter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A running array as {@code parityd status} prints it, in the spirit of {@code mdadm --detail}
 * and {@code /proc/mdstat}: a heading with the state, the array's facts, one line per slot and
 * spare, one per running task. Words for background work (rebuild, resync, check) appear only
 * while such work runs, so a script or an eye can trust them.
 */
final class StatusReport {

    private StatusReport() {
    }

    static void print(ArrayStatus s, PrintWriter out) {
        if (s.ha() != null && s.members().isEmpty()) {
            printWithoutMembers(s, out);
            return;
        }
        out.printf("%s: RAID-%d, %s, %s%n", s.name(), s.level(), Sizes.format(s.size()), state(s));
        out.printf("        uuid: %s%n", s.uuid());
        out.printf("      export: %s%n", s.export());
        out.printf("       chunk: %s%n", Sizes.format(s.chunk()));
        out.printf("     members: %s%n", memberSummary(s));
        out.printf("     journal: %s%n", journal(s.journal()));
        memory(s.memory(), out);
        if (s.ha() != null) {
            ha(s.ha(), out);
        }
        out.println();
        out.println("  slot  state       path");
        for (MemberStatus m : s.members()) {
            out.printf("  %4d  %-10s  %s%s%n", m.slot(), m.state(), m.path() == null ? "-" : m.path(),
                    m.reason() == null ? "" : "  (" + m.reason() + ")");
        }
        for (String spare : s.spares()) {
            out.printf("     -  %-10s  %s%n", "spare", spare);
        }
        if (!s.tasks().isEmpty() || s.lastScrub() != null || !"clean".equals(s.state())) {
            out.println();
        }
        s.tasks().forEach(t -> out.println("  " + task(t)));
        if (s.lastScrub() != null) {
            out.println("  " + lastScrub(s.lastScrub()));
        }
        hints(s, out);
        out.flush();
    }

    /**
     * A process of an HA pair that does not open the members (the front, or a controller that is
     * not primary): the volume, where it is exported, its journal if it has one, and the pair.
     */
    private static void printWithoutMembers(ArrayStatus s, PrintWriter out) {
        out.printf("%s: %s volume, %s%n", s.name(), Sizes.format(s.size()), s.state());
        out.printf("        uuid: %s%n", s.uuid());
        if (s.export() != null) {
            out.printf("      export: %s%n", s.export());
        }
        if (s.journal() != null) {
            out.printf("     journal: %s%n", journal(s.journal()));
        }
        memory(s.memory(), out);
        ha(s.ha(), out);
        out.println("     members: opened by the primary controller only; ask its admin socket for them");
        out.flush();
    }

    /** "requests: 32 MiB of 256 MiB in memory; 2 connections wait for memory". */
    private static void memory(ArrayStatus.RequestMemory m, PrintWriter out) {
        if (m == null) {
            return;
        }
        out.printf("    requests: %s of %s in memory%s%n", Sizes.format(m.used()), Sizes.format(m.capacity()),
                m.waiting() == 0 ? "" : "; " + m.waiting() + (m.waiting() == 1 ? " connection waits" : " connections wait")
                        + " for memory (backpressure)");
    }

    /** The HA section: this process, then one line per peer with its state, epoch and round trip. */
    static void ha(ArrayStatus.HaStatus h, PrintWriter out) {
        StringBuilder self = new StringBuilder(h.node()).append(", ").append(h.role()).append(" at epoch ").append(h.epoch());
        if (h.node().startsWith("controller")) {
            self.append(" (journal in sync at ").append(h.inSyncEpoch() == 0 ? "none" : h.inSyncEpoch()).append(')');
        }
        if (h.checkpointMicros() >= 0) {
            self.append(String.format(Locale.ROOT, "; checkpoint round trip %.2f ms", h.checkpointMicros() / 1000.0));
        }
        if (h.node().equals("front")) {
            self.append("; ").append(h.failovers()).append(h.failovers() == 1 ? " failover" : " failovers")
                    .append(", ").append(h.outstanding()).append(" requests unanswered");
        }
        out.printf("          ha: %s%n", self);
        for (ArrayStatus.PeerStatus p : h.peers()) {
            out.printf("        peer: %s %s%s%s%s%n", p.id(), p.state(),
                    p.address().isEmpty() ? "" : " at " + p.address(), p.epoch() < 0 ? "" : ", epoch " + p.epoch(),
                    p.roundTripMicros() < 0 ? "" : String.format(Locale.ROOT, ", heartbeat round trip %.2f ms",
                            p.roundTripMicros() / 1000.0));
        }
    }

    /** {@code /srv/vol0.nvram, 1.2 MiB of 256.0 MiB in use (3 records)}, or why there is none. */
    static String journal(ArrayStatus.JournalStatus j) {
        if (j == null) {
            return "none (--journal off)";
        }
        String line = j.mode().equals("commands")
                ? j.path() + ", commands: " + j.records() + (j.records() == 1 ? " record, " : " records, ") + j.marks()
                        + (j.marks() == 1 ? " dirty region" : " dirty regions") + (j.writes() == 0 ? ""
                        : String.format(Locale.ROOT, "; %d of %d writes waited for a sync", j.writesWaited(), j.writes()))
                : j.path() + ", data: " + Sizes.format(j.usedBytes()) + " of " + Sizes.format(j.capacity()) + " in use ("
                        + j.records() + (j.records() == 1 ? " record" : " records") + ")";
        line += (j.nonVolatile() ? ", declared non-volatile" : "")
                + (j.waiting() > 0 ? ", FULL: " + j.waiting() + " requests waiting for room" : "");
        if (j.replayedRequests() > 0 || j.droppedRecords() > 0) {
            line += String.format(Locale.ROOT, "; at start replayed %d requests, resynced %d stripes, dropped %d"
                    + " unacknowledged records in %d ms", j.replayedRequests(), j.stripesResynced(), j.droppedRecords(),
                    j.recoveryMillis());
        }
        return line;
    }

    /** {@code degraded}, or with running work {@code degraded, rebuilding} (mdadm: "clean, degraded, recovering"). */
    private static String state(ArrayStatus s) {
        StringBuilder state = new StringBuilder(s.state());
        for (TaskStatus t : s.tasks()) {
            state.append(", ").append(switch (t.kind()) {
                case "rebuild" -> "rebuilding";
                case "resync" -> "resyncing";
                case "check" -> "checking";
                case "repair" -> "repairing";
                default -> t.kind();
            });
        }
        return state.toString();
    }

    private static String memberSummary(ArrayStatus s) {
        Map<String, Integer> byState = new TreeMap<>();
        s.members().forEach(m -> byState.merge(m.state(), 1, Integer::sum));
        StringBuilder text = new StringBuilder(s.members().size() + " slots");
        String sep = ": ";
        for (Map.Entry<String, Integer> e : byState.entrySet()) {
            text.append(sep).append(e.getValue()).append(' ').append(e.getKey());
            sep = ", ";
        }
        int spares = s.spares().size();
        return text.append("; ").append(spares == 0 ? "no spares" : spares == 1 ? "1 spare" : spares + " spares").toString();
    }

    /** {@code rebuild onto /srv/m9.img: 40.0% (4 of 10 stripes), 12.5 MiB/s, 0:00:12 left}. */
    static String task(TaskStatus t) {
        String what = switch (t.kind()) {
            case "rebuild" -> "rebuild onto " + t.target();
            case "check", "repair", "resync" -> t.kind() + " of " + t.target();
            default -> t.kind() + " " + t.target();
        };
        String line = String.format(Locale.ROOT, "%s: %.1f%% (%d of %d stripes), %s, %s", what, percent(t.done(), t.total()),
                t.done(), t.total(), rate(t.bytesPerSecond()), eta(t.etaSeconds()));
        if (t.kind().equals("check") || t.kind().equals("repair")) {
            line += ", " + mismatches(t.mismatches()) + " so far";
        }
        return line;
    }

    private static String lastScrub(ScrubResult r) {
        String line = String.format(Locale.ROOT, "last %s: %d of %d stripes, %s", r.kind(), r.done(), r.total(), mismatches(r.mismatches()));
        if (r.kind().equals("repair")) {
            line += ", " + r.repaired() + " repaired";
        }
        return line + (r.complete() ? "" : ", stopped early")
                + (r.finished() == null ? "" : ", ended " + r.finished().truncatedTo(ChronoUnit.SECONDS));
    }

    /** What to do about lost redundancy, when nothing is already doing it. */
    private static void hints(ArrayStatus s, PrintWriter out) {
        boolean rebuilding = s.tasks().stream().anyMatch(t -> t.kind().equals("rebuild"));
        List<MemberStatus> lost = s.members().stream().filter(m -> m.state().equals("faulty") || m.state().equals("missing")).toList();
        if (!rebuilding) {
            for (MemberStatus m : lost) {
                out.printf("  slot %d is %s: replace it with 'parityd replace %d NEW-MEMBER'%n", m.slot(), m.state(), m.slot());
            }
        }
        ScrubResult last = s.lastScrub();
        if (last != null && last.mismatches() > last.repaired() && s.tasks().isEmpty()) {
            out.println("  parity is wrong on some stripes: rewrite it with 'parityd scrub --repair'");
        }
        if (s.state().equals("failed")) {
            out.printf("  more slots are lost than RAID-%d survives: data on them cannot be read%n", s.level());
        }
    }

    static double percent(long done, long total) {
        return total <= 0 ? 100.0 : 100.0 * done / total;
    }

    static String rate(double bytesPerSecond) {
        return String.format(Locale.ROOT, "%.1f MiB/s", bytesPerSecond / (1 << 20));
    }

    static String eta(long seconds) {
        if (seconds < 0) {
            return "time left unknown";
        }
        return String.format(Locale.ROOT, "%d:%02d:%02d left", seconds / 3600, seconds / 60 % 60, seconds % 60);
    }

    static String mismatches(long n) {
        return n + (n == 1 ? " parity mismatch" : " parity mismatches");
    }
}
