package io.parityd.raid;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rollback half of create, which a refusal-free create only reaches on a real I/O failure. */
class NewMembersTest {

    @TempDir
    Path dir;

    @Test
    void shouldRemoveTheFilesItCreatedWhenCreateFailsBeforeChangingAnything() throws IOException {
        Path existing = Files.write(dir.resolve("old.img"), new byte[4 << 20]);
        NewMembers members = new NewMembers(3);
        members.open(0, existing);
        members.create(1, dir.resolve("new1.img"), 4 << 20);
        members.create(2, dir.resolve("new2.img"), 4 << 20);
        members.close();

        ArrayException failure = members.failed("tank", new IOException("No space left on device"));

        assertThat(dir.resolve("new1.img")).doesNotExist();
        assertThat(dir.resolve("new2.img")).doesNotExist();
        assertThat(existing).exists();
        assertThat(failure).hasMessage("creating array 'tank' failed on " + dir.resolve("new2.img")
                + ": No space left on device; nothing was changed; fix the cause and run create again");
    }

    @Test
    void shouldSayExistingMembersChangedOnceZeroingBegan() throws IOException {
        Path existing = Files.write(dir.resolve("old.img"), new byte[4 << 20]);
        NewMembers members = new NewMembers(2);
        members.create(1, dir.resolve("new.img"), 4 << 20);
        members.open(0, existing);
        members.zero(0, 2 << 20);
        members.close();

        ArrayException failure = members.failed("tank", new IOException("Input/output error"));

        assertThat(dir.resolve("new.img")).doesNotExist();
        assertThat(failure.fix()).isEqualTo("new member files were removed, but existing members were partly"
                + " overwritten; fix the cause and run create again with --force");
    }

    @Test
    void shouldEraseTheSuperblocksItWroteWhenCreateFailsBeforeEveryMemberHasOne() throws IOException {
        Path existing = Files.write(dir.resolve("old.img"), new byte[4 << 20]);
        NewMembers members = new NewMembers(2);
        members.open(0, existing);
        members.create(1, dir.resolve("new.img"), 4 << 20);
        SuperblockRecord record = stampable();
        members.writeSuperblocks(0, record);

        members.unstamp(new IOException("Input/output error"));
        members.close();
        members.failed("tank", new IOException("Input/output error"));

        try (io.parityd.member.FileMember old = io.parityd.member.FileMember.open(existing, true)) {
            assertThat(Superblock.read(old).status()).as("no part of the array left on the existing member")
                    .isEqualTo(SuperblockRead.Status.MISSING);
        }
        assertThat(dir.resolve("new.img")).doesNotExist();
    }

    private static SuperblockRecord stampable() {
        java.util.UUID member = java.util.UUID.randomUUID();
        ArrayGeometry g = new ArrayGeometry(java.util.UUID.randomUUID(), "tank", 1, 65536, 2, Superblock.DATA_OFFSET,
                65536);
        java.time.Instant now = java.time.Instant.parse("2025-06-01T10:00:00Z");
        return new SuperblockRecord(1, g, member, 0, 1, now, now, SuperblockRecord.FLAG_CREATING,
                java.util.List.of(MemberEntry.active(member), MemberEntry.active(java.util.UUID.randomUUID())));
    }

    @Test
    void shouldKeepEveryFileOnceTheArrayIsComplete() throws IOException {
        NewMembers members = new NewMembers(1);
        members.create(0, dir.resolve("new.img"), 4 << 20);
        members.complete();
        members.close();

        ArrayException failure = members.failed("tank", new IOException("close failed"));

        assertThat(dir.resolve("new.img")).exists();
        assertThat(failure.fix()).startsWith("the array was written to every member");
    }
}
