package io.parityd.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 16's stories, run as an operator would: a sequence of commands that used to lose an array
 * whose members still held every byte ends with every byte written before the mistake read back,
 * and parity clean.
 */
class OperatorRecoveryIT extends DaemonTestBase {

    private static final Duration REBUILD = Duration.ofMinutes(3);

    /** {@code fail 1}, then {@code fail --force 2}: the array fails; {@code serve --force} brings it back. */
    @Test
    void shouldBringBackAnArrayFailedByHandWithServeForce() throws Exception {
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("vol1", "33M", members);
        daemon = Arrays.serve(dir.resolve("parityd-1.log"), members);
        KnownData before = new KnownData(16);
        before.write(daemon.uri(), daemon.exportName());
        Admin admin = new Admin(Arrays.adminSocket(dir.resolve("parityd-1.log")));

        assertThat(admin.run("fail", "1").exitCode()).isZero();
        Parityd.Result second = admin.run("fail", "--force", "2");
        assertThat(second.exitCode()).as(second.all()).isZero();
        assertThat(admin.status().get("state").asText()).isEqualTo("failed");
        daemon.terminate(Duration.ofSeconds(60));
        daemon = null;

        List<String> serve = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:0"));
        serve.addAll(Arrays.paths(members));
        Parityd.Result refused = Parityd.run(serve.toArray(String[]::new));
        assertThat(refused.exitCode()).as(refused.all()).isEqualTo(1);
        assertThat(refused.stderr()).contains("can run without 1 member, but 2 are unusable");

        daemon = Arrays.serve(dir.resolve("parityd-2.log"), members, "--force");
        assertThat(daemon.log()).as("what --force decided, with the evidence")
                .contains("--force: trusting slot 2 (" + members.get(2))
                .contains("--force: slot 1 (" + members.get(1) + ") stays out");
        admin = new Admin(Arrays.adminSocket(dir.resolve("parityd-2.log")));
        assertThat(admin.slotStates()).containsExactly("active", "faulty", "active", "active");
        before.assertIntact(daemon.uri(), daemon.exportName());

        Path fresh = SparseFiles.create(dir.resolve("fresh.img"), 33L << 20);
        Parityd.Result replace = admin.run("replace", "1", fresh.toString());
        assertThat(replace.exitCode()).as(replace.all()).isZero();
        admin.awaitClean(REBUILD);
        before.assertIntact(daemon.uri(), daemon.exportName());
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;

        List<Path> now = new ArrayList<>(members);
        now.set(1, fresh);
        Arrays.assertParityClean(now);
    }
    /**
     * After a spare took over, the old member list still starts the array with {@code --uuid};
     * after a {@code replace} too, with {@code --scan} of the directory, which also holds the
     * replaced members and another array's.
     */
    @Test
    void shouldStartFromAnOldMemberListOrADirectoryByUuid() throws Exception {
        Path pool = java.nio.file.Files.createDirectories(dir.resolve("pool")); // the logs stay out of it
        List<Path> members = Arrays.members(pool, 4);
        Path spare = pool.resolve("spare0.img");
        Parityd.Result created = Arrays.create("vol1", "33M", members, "--spare", spare.toString());
        String uuid = uuidIn(created.stdout());
        Arrays.create("other", "33M", List.of(pool.resolve("o0.img"), pool.resolve("o1.img"), pool.resolve("o2.img")));
        List<Path> unitFile = new ArrayList<>(members);
        unitFile.add(spare);

        daemon = Arrays.serve(dir.resolve("parityd-1.log"), unitFile);
        KnownData before = new KnownData(17);
        before.write(daemon.uri(), daemon.exportName());
        Admin admin = new Admin(Arrays.adminSocket(dir.resolve("parityd-1.log")));
        assertThat(admin.run("fail", "0").exitCode()).isZero(); // the spare takes slot 0 over
        admin.awaitClean(REBUILD);
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;

        List<String> plain = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:0"));
        plain.addAll(Arrays.paths(unitFile));
        Parityd.Result refused = Parityd.run(plain.toArray(String[]::new));
        assertThat(refused.stderr()).as("without --uuid the old list is refused, naming the current member")
                .contains("list " + spare + " and leave out " + members.get(0));

        daemon = Arrays.serve(dir.resolve("parityd-2.log"), unitFile, "--uuid", uuid);
        assertThat(daemon.log()).contains("left out " + members.get(0) + ": replaced");
        admin = new Admin(Arrays.adminSocket(dir.resolve("parityd-2.log")));
        assertThat(admin.slotStates()).containsOnly("active");
        before.assertIntact(daemon.uri(), daemon.exportName());
        Path fresh = SparseFiles.create(pool.resolve("new1.img"), 33L << 20);
        assertThat(admin.run("replace", "1", fresh.toString()).exitCode()).isZero();
        admin.awaitClean(REBUILD);
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;

        daemon = Arrays.serve(dir.resolve("parityd-3.log"), List.of(pool), "--uuid", uuid, "--scan");
        assertThat(daemon.log()).contains("found 4 members among [" + pool + "]")
                .contains("left out " + members.get(0) + ": replaced").contains("left out " + members.get(1) + ": replaced")
                .contains("file(s) of no array or another one ignored"); // o0-o2, the journal's files
        admin = new Admin(Arrays.adminSocket(dir.resolve("parityd-3.log")));
        assertThat(admin.slotStates()).containsOnly("active");
        assertThat(admin.status().get("members").get(0).get("path").asText()).isEqualTo(spare.toString());
        assertThat(admin.status().get("members").get(1).get("path").asText()).isEqualTo(fresh.toString());
        before.assertIntact(daemon.uri(), daemon.exportName());
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;
        Arrays.assertParityClean(List.of(spare, fresh, members.get(2), members.get(3)));
    }

    /**
     * A member left out of one start stays stale, and used to be refused as "already a member"
     * by replace. re-add takes it back into its slot and resyncs only the stripes written while
     * it was away (the write intent); a member failed by hand (still open in its slot) comes back
     * the same way. The array then survives the loss of any other member.
     */
    @Test
    void shouldReAddAMemberLeftOutOfAStartResyncingOnlyWhatItMissed() throws Exception {
        List<Path> members = Arrays.members(dir, 4);
        Arrays.create("vol1", "33M", members);
        daemon = Arrays.serve(dir.resolve("parityd-0.log"), members);
        KnownData before = new KnownData(18);
        before.write(daemon.uri(), daemon.exportName());
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();

        List<Path> withoutTwo = List.of(members.get(0), members.get(1), members.get(3));
        daemon = Arrays.serve(dir.resolve("parityd-1.log"), withoutTwo);
        Missed missed = new Missed(19, 1000);
        missed.write(daemon.uri(), daemon.exportName());
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();

        daemon = Arrays.serve(dir.resolve("parityd-2.log"), members);
        assertThat(daemon.log()).contains("not using " + members.get(2) + " in slot 2");
        Admin admin = new Admin(Arrays.adminSocket(dir.resolve("parityd-2.log")));
        Parityd.Result absent = admin.run("re-add", dir.resolve("nothing.img").toString());
        assertThat(absent.exitCode()).isEqualTo(1);
        assertThat(absent.stderr()).contains("does not exist");
        Parityd.Result active = admin.run("re-add", members.get(0).toString());
        assertThat(active.stderr()).contains("is the member of slot 0 of array 'vol1', and active: nothing to re-add");

        Parityd.Result reAdd = admin.run("re-add", members.get(2).toString());
        assertThat(reAdd.exitCode()).as(reAdd.all()).isZero();
        assertThat(reAdd.stdout()).contains("rebuilt slot 2 of 'vol1' onto " + members.get(2));
        assertThat(daemon.log()).as("only the stripes the 1,000 writes touched")
                .contains("re-add of slot 2: resynced " + missed.stripes() + " of 512 stripes");
        assertThat(admin.slotStates()).containsOnly("active");
        before.assertIntact(daemon.uri(), daemon.exportName());
        missed.assertIntact(daemon.uri(), daemon.exportName());

        assertThat(admin.run("fail", "1").exitCode()).isZero();
        Parityd.Result back = admin.run("re-add", members.get(1).toString());
        assertThat(back.exitCode()).as("a member failed by hand is still open in its slot: " + back.all()).isZero();
        assertThat(daemon.log()).contains("re-add of slot 1: resynced 0 of 512 stripes");
        assertThat(admin.slotStates()).containsOnly("active");
        // replace takes a slot's own former member too (it used to say "already a member"), in full.
        assertThat(admin.run("fail", "3").exitCode()).isZero();
        Parityd.Result own = admin.run("replace", "3", members.get(3).toString());
        assertThat(own.exitCode()).as(own.all()).isZero();
        assertThat(admin.slotStates()).containsOnly("active");
        assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
        daemon = null;

        Arrays.assertParityClean(members);
        for (int lost = 0; lost < members.size(); lost++) {
            // Each on copies: a start without a member records it missing, which the next would count too.
            Path copies = java.nio.file.Files.createDirectories(dir.resolve("without-" + lost));
            List<Path> others = new ArrayList<>();
            for (int i = 0; i < members.size(); i++) {
                if (i != lost) {
                    others.add(java.nio.file.Files.copy(members.get(i), copies.resolve(members.get(i).getFileName())));
                }
            }
            daemon = Arrays.serve(copies.resolve("parityd.log"), others);
            before.assertIntact(daemon.uri(), daemon.exportName());
            missed.assertIntact(daemon.uri(), daemon.exportName());
            assertThat(daemon.terminate(Duration.ofSeconds(60))).isZero();
            daemon = null;
        }
    }

    /** Random 4 KiB writes past {@link KnownData}'s region, remembered so they can be read back. */
    private static final class Missed {
        private static final int BLOCK = 4096;
        private static final long FROM = 40L << 20;
        private static final long STRIPE = 3 * 65536; // RAID-5 of four members, 64 KiB chunks
        private final java.util.SortedMap<Long, byte[]> blocks = new java.util.TreeMap<>();

        Missed(long seed, int writes) {
            java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
            while (blocks.size() < writes) { // distinct blocks, so every write counts
                byte[] data = new byte[BLOCK];
                random.nextBytes(data);
                blocks.put(FROM + (long) BLOCK * random.nextInt((int) ((48L << 20) / BLOCK)), data);
            }
        }

        void write(String uri, String export) throws Exception {
            try (RawNbdClient c = RawNbdClient.open(uri, export, false)) {
                for (java.util.Map.Entry<Long, byte[]> block : blocks.entrySet()) {
                    c.write(block.getKey(), block.getValue());
                }
            }
        }

        /** Stripes the writes touched (4 KiB-aligned blocks never straddle a stripe). */
        long stripes() {
            return blocks.keySet().stream().map(offset -> offset / STRIPE).distinct().count();
        }

        void assertIntact(String uri, String export) throws Exception {
            try (RawNbdClient c = RawNbdClient.open(uri, export, true)) {
                for (java.util.Map.Entry<Long, byte[]> block : blocks.entrySet()) {
                    assertThat(c.read(block.getKey(), BLOCK)).as("block written at %d", block.getKey())
                            .isEqualTo(block.getValue());
                }
            }
        }
    }

    private static String uuidIn(String createOutput) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\(([0-9a-f-]{36})\\)").matcher(createOutput);
        assertThat(m.find()).as("an array uuid in: %s", createOutput).isTrue();
        return m.group(1);
    }
}
