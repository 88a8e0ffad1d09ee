package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * G5 for the journal: every way a journal can be wrong at start is refused by name, changes
 * nothing, and says what to do; {@code --discard-journal} is the operator's knowing way out and
 * forces a full resync. Each case starts from an array whose daemon was killed (dirty, its
 * superblocks naming the journal) or stopped cleanly.
 */
class JournalRefusalIT extends DaemonTestBase {

    @Test
    void shouldRefuseAMissingJournalOfADirtyArrayUntilDiscarded() throws Exception {
        List<Path> members = killedArray("lost");
        Path journal = dir.resolve("lost.nvram");
        assertThat(journal).as("the default journal sits beside the members").exists();
        Files.delete(journal);

        Parityd.Result refused = serve(members);
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.stderr()).contains("last ran with journal").contains(journal.toString())
                .contains("--discard-journal");
        assertThat(journal).as("nothing created in its place").doesNotExist();
        assertThat(examine(members)).as("still dirty").contains("state:      dirty");

        daemon = Arrays.serve(dir.resolve("discard.log"), members, "--discard-journal");
        assertThat(daemon.log()).contains("is being discarded as asked").contains("every stripe is resynced");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;
    }

    @Test
    void shouldRefuseNoJournalOnADirtyJournaledArray() throws Exception {
        List<Path> members = killedArray("nojournal");
        Parityd.Result refused = serve(members, "--no-journal");
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.stderr()).contains("was not shut down cleanly and its last run wrote through journal")
                .contains("start without --journal off");
        daemon = Arrays.serve(dir.resolve("replay.log"), members);
        assertThat(daemon.log()).contains("recovered from journal");
    }

    @Test
    void shouldRefuseAnotherArraysJournalEvenWhenAskedToDiscard() throws Exception {
        List<Path> members = killedArray("mine");
        List<Path> others = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            others.add(dir.resolve("other" + i + ".img"));
        }
        Arrays.create("other", "17M", others);
        daemon = Arrays.serve(dir.resolve("other.log"), others);
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;
        Path foreign = dir.resolve("other.nvram");
        byte[] before = Files.readAllBytes(foreign);

        for (String[] extra : new String[][] {{}, {"--discard-journal"}}) {
            List<String> args = new ArrayList<>(List.of("--nvram", foreign.toString()));
            args.addAll(List.of(extra));
            Parityd.Result refused = serve(members, args.toArray(String[]::new));
            assertThat(refused.exitCode()).as("with %s", List.of(extra)).isEqualTo(1);
            assertThat(refused.stderr()).contains("belongs to array other").contains("not to mine");
        }
        assertThat(Files.readAllBytes(foreign)).as("the other array's journal untouched").isEqualTo(before);
    }

    @Test
    void shouldRefuseAFileThatIsNotAJournal() throws Exception {
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create("junk", "17M", members);
        Path notJournal = dir.resolve("notes.txt");
        Files.writeString(notJournal, "shopping list: disks, more disks\n".repeat(200));
        byte[] before = Files.readAllBytes(notJournal);
        Parityd.Result refused = serve(members, "--nvram", notJournal.toString());
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.stderr()).contains(notJournal + " is not a parityd journal");
        assertThat(Files.readAllBytes(notJournal)).isEqualTo(before);
        assertThat(examine(members)).as("a refused start leaves the array clean").contains("state:      clean");
    }

    /** An array whose daemon took some writes and was killed: dirty, its superblocks naming the journal. */
    private List<Path> killedArray(String name) throws Exception {
        List<Path> members = Arrays.members(dir, 3);
        Arrays.create(name, "17M", members);
        daemon = Arrays.serve(dir.resolve(name + ".log"), members);
        try (RawNbdClient c = RawNbdClient.open(daemon.uri(), daemon.exportName(), false)) {
            c.write(0, new byte[65536]);
        }
        daemon.kill();
        daemon.close();
        daemon = null;
        return members;
    }

    private Parityd.Result serve(List<Path> members, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:0",
                "--admin-socket", dir.resolve("refused.sock").toString()));
        args.addAll(List.of(extra));
        args.addAll(Arrays.paths(members));
        return Parityd.run(args.toArray(String[]::new));
    }

    private static String examine(List<Path> members) throws Exception {
        return Parityd.run("examine", members.get(0).toString()).stdout();
    }
}
