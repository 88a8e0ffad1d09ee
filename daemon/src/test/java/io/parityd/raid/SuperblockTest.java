package io.parityd.raid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.zip.CRC32C;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.parityd.member.FileMember;
import io.parityd.raid.SuperblockRead.Status;

class SuperblockTest {

    private static final UUID ARRAY = UUID.fromString("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
    private static final UUID[] MEMBERS = {
        UUID.fromString("11111111-2222-3333-4444-555555555555"),
        UUID.fromString("66666666-7777-8888-9999-aaaaaaaaaaaa"),
        UUID.fromString("bbbbbbbb-cccc-dddd-eeee-ffffffffffff"),
        UUID.fromString("01234567-89ab-cdef-0123-456789abcdef"),
        UUID.fromString("fedcba98-7654-3210-fedc-ba9876543210"),
        UUID.fromString("deadbeef-0000-4000-8000-00000000cafe"),
    };

    private static final UUID JOURNAL = UUID.fromString("a1b2c3d4-e5f6-4789-9abc-def012345678");

    @TempDir
    Path dir;

    @Test
    void shouldRoundTripEveryField() {
        List<MemberEntry> table = List.of(
                MemberEntry.active(MEMBERS[0]),
                new MemberEntry(MEMBERS[1], MemberState.FAULTY, 0),
                new MemberEntry(MEMBERS[2], MemberState.REBUILDING, 0x0123_4567_89abL),
                new MemberEntry(MEMBERS[3], MemberState.MISSING, 0),
                MemberEntry.active(MEMBERS[4]),
                new MemberEntry(MEMBERS[5], MemberState.SPARE, 0));
        ArrayGeometry geometry = new ArrayGeometry(ARRAY, "vøl-ümé.1", 5, 65536, 5, Superblock.DATA_OFFSET,
                1_000L * 65536);
        SuperblockRecord record = new SuperblockRecord(0x0102_0304_0506_0708L, geometry, MEMBERS[2], 2, 42,
                Instant.parse("2024-02-29T12:34:56.789Z"), Instant.parse("2025-01-01T00:00:00.001Z"),
                SuperblockRecord.FLAG_CLEAN, table);

        SuperblockRecord back = Superblock.decode(Superblock.encode(record));

        assertThat(back).isEqualTo(record);
        assertThat(back.clean()).isTrue();
        assertThat(back.withClean(false).clean()).isFalse();
    }

    @Test
    void shouldPlaceFieldsAtTheOffsetsInTheDiagram() {
        SuperblockRecord record = record(0x1122_3344_5566_7788L, 1);
        ByteBuffer b = Superblock.encode(record).order(ByteOrder.LITTLE_ENDIAN);

        assertThat(b.remaining()).isEqualTo(4096);
        assertThat(new String(bytes(b, 0x000, 8), StandardCharsets.US_ASCII)).isEqualTo("PARITYSB");
        assertThat(b.getInt(0x008)).isEqualTo(1);
        assertThat(b.getInt(0x00C)).isEqualTo(SuperblockRecord.FLAG_CLEAN);
        assertThat(bytes(b, 0x010, 8)).containsExactly(0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11);
        assertThat(HexFormat.of().formatHex(bytes(b, 0x020, 16))).isEqualTo(ARRAY.toString().replace("-", ""));
        assertThat(HexFormat.of().formatHex(bytes(b, 0x030, 16))).isEqualTo(MEMBERS[1].toString().replace("-", ""));
        assertThat(b.getInt(0x040)).as("slot").isEqualTo(1);
        assertThat(b.getInt(0x048)).as("chunk").isEqualTo(512 * 1024);
        assertThat(b.getLong(0x050)).as("data offset").isEqualTo(1L << 20);
        assertThat(b.getInt(0x074)).as("name length").isEqualTo(4);
        assertThat(new String(bytes(b, 0x080, 4), StandardCharsets.UTF_8)).isEqualTo("tank");
        assertThat(HexFormat.of().formatHex(bytes(b, 0x100 + 2 * 32, 16))).isEqualTo(MEMBERS[2].toString().replace("-", ""));
        assertThat(b.getInt(0x100 + 2 * 32 + 16)).as("state of slot 2").isEqualTo(MemberState.ACTIVE.code());
        CRC32C crc = new CRC32C();
        crc.update(bytes(b, 0, 0xFFC));
        assertThat(b.getInt(0xFFC)).isEqualTo((int) crc.getValue());
    }

    @Test
    void shouldAlternateCopiesSoTheNewestIsNeverOverwritten() throws IOException {
        try (FileMember member = newMember()) {
            Superblock.writeBoth(member, record(1, 0));
            assertThat(generationsOnDisk(member)).containsExactly(1L, 1L);

            Superblock.write(member, record(2, 0));
            assertThat(generationsOnDisk(member)).containsExactly(1L, 2L);
            Superblock.write(member, record(3, 0));
            assertThat(generationsOnDisk(member)).containsExactly(3L, 2L);
            Superblock.write(member, record(4, 0));
            assertThat(generationsOnDisk(member)).containsExactly(3L, 4L);

            assertThat(readRecord(member).generation()).isEqualTo(4);
        }
    }

    @Test
    void shouldUseTheOlderCopyWhenTheNewerIsCorrupt() throws IOException {
        try (FileMember member = newMember()) {
            Superblock.writeBoth(member, record(1, 0));
            Superblock.write(member, record(2, 0)); // lands in copy B
            flipByte(member, Superblock.COPY_B_OFFSET + 0x200);

            SuperblockRead read = Superblock.read(member);

            assertThat(read.status()).isEqualTo(Status.OK);
            assertThat(read.record().orElseThrow().generation()).isEqualTo(1);
            assertThat(read.detail()).contains("copy at 4096: checksum mismatch");
        }
    }

    @Test
    void shouldUseTheOlderCopyWhenTheNewerWasTornHalfWritten() throws IOException {
        try (FileMember member = newMember()) {
            Superblock.writeBoth(member, record(1, 0));
            Superblock.write(member, record(2, 0));
            // A crash after the first 512-byte sector of the gen-3 write reached the disk.
            ByteBuffer gen3 = Superblock.encode(record(3, 0));
            member.write(gen3.limit(512), Superblock.COPY_A_OFFSET, true);

            assertThat(readRecord(member).generation()).isEqualTo(2);
        }
    }

    @Test
    void shouldWriteOverTheDamagedCopyAndKeepTheValidOne() throws IOException {
        try (FileMember member = newMember()) {
            Superblock.writeBoth(member, record(1, 0));
            Superblock.write(member, record(2, 0)); // B = 2, A = 1
            flipByte(member, Superblock.COPY_A_OFFSET + 0x10);
            Superblock.write(member, record(3, 0));

            assertThat(generationsOnDisk(member)).containsExactly(3L, 2L);
        }
    }

    @Test
    void shouldReportDamagedWhenBothCopiesFailTheirChecksum() throws IOException {
        try (FileMember member = newMember()) {
            Superblock.writeBoth(member, record(1, 0));
            flipByte(member, Superblock.COPY_A_OFFSET + 0x900);
            flipByte(member, Superblock.COPY_B_OFFSET + 0x44);

            SuperblockRead read = Superblock.read(member);

            assertThat(read.status()).isEqualTo(Status.DAMAGED);
            assertThat(read.record()).isEmpty();
            assertThat(read.detail()).contains("copy at 0: checksum mismatch", "copy at 4096: checksum mismatch");
        }
    }

    @Test
    void shouldReportDamagedWhenTheChecksumMatchesNonsense() throws IOException {
        try (FileMember member = newMember()) {
            for (long at : new long[] {Superblock.COPY_A_OFFSET, Superblock.COPY_B_OFFSET}) {
                ByteBuffer b = Superblock.encode(record(1, 0)).order(ByteOrder.LITTLE_ENDIAN);
                b.putInt(0x048, 1000); // chunk size not a power of two
                rechecksum(b);
                member.write(b, at, false);
            }

            SuperblockRead read = Superblock.read(member);

            assertThat(read.status()).isEqualTo(Status.DAMAGED);
            assertThat(read.detail()).contains("checksum matches but chunk size must be a power of two");
        }
    }

    @Test
    void shouldReportMissingOnAZeroedMember() throws IOException {
        try (FileMember member = newMember()) {
            SuperblockRead read = Superblock.read(member);

            assertThat(read.status()).isEqualTo(Status.MISSING);
            assertThat(read.formatVersion()).isZero();
        }
    }

    @Test
    void shouldReportMissingOnAMemberTooSmallForASuperblock() throws IOException {
        try (FileMember member = FileMember.createSparse(dir.resolve("tiny.img"), 5000)) {
            assertThat(Superblock.read(member).status()).isEqualTo(Status.MISSING);
        }
    }

    @Test
    void shouldReportNewerFormatEvenWhenTheOtherCopyIsAnOlderValidOne() throws IOException {
        try (FileMember member = newMember()) {
            Superblock.writeBoth(member, record(1, 0));
            ByteBuffer b = Superblock.encode(record(2, 0)).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(0x008, 2);
            rechecksum(b);
            member.write(b, Superblock.COPY_B_OFFSET, false);

            SuperblockRead read = Superblock.read(member);

            assertThat(read.status()).isEqualTo(Status.NEWER_FORMAT);
            assertThat(read.formatVersion()).isEqualTo(2);
            assertThatThrownBy(() -> Superblock.write(member, record(3, 0)))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("holds a format-2 superblock, newer than this parityd's format 1");
        }
    }

    @Test
    void shouldReportMissingForJunkWithoutMagicAndDamagedForJunkWithIt() throws IOException {
        byte[] junk = new byte[8192];
        new Random(7).nextBytes(junk);
        try (FileMember member = newMember()) {
            member.write(ByteBuffer.wrap(junk), 0, false);
            assertThat(Superblock.read(member).status()).isEqualTo(Status.MISSING);

            System.arraycopy("PARITYSB".getBytes(StandardCharsets.US_ASCII), 0, junk, 4096, 8);
            junk[4096 + 8] = 1; // version 1, little-endian
            junk[4096 + 9] = 0;
            junk[4096 + 10] = 0;
            junk[4096 + 11] = 0;
            member.write(ByteBuffer.wrap(junk), 0, false);
            assertThat(Superblock.read(member).status()).isEqualTo(Status.DAMAGED);
        }
    }

    @Test
    void shouldRefuseToWriteAGenerationThatIsNotNewer() throws IOException {
        try (FileMember member = newMember()) {
            Superblock.writeBoth(member, record(5, 0));

            assertThatThrownBy(() -> Superblock.write(member, record(5, 0)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("generation 5 is not newer than 5");
            assertThat(generationsOnDisk(member)).containsExactly(5L, 5L);
        }
    }

    @Test
    void shouldRefuseARecordWhoseTableDisagreesWithItsSlot() {
        SuperblockRecord record = record(1, 0);

        assertThatThrownBy(() -> new SuperblockRecord(1, record.geometry(), MEMBERS[4], 0, 1, Instant.EPOCH,
                Instant.EPOCH, 0, record.members()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("member table slot 0 names " + MEMBERS[0]);
    }

    @Test
    void shouldRoundTripAJournalIdentityInItsFlagAndField() {
        SuperblockRecord record = record(7, 1).withJournal(Optional.of(JOURNAL));
        ByteBuffer b = Superblock.encode(record).order(ByteOrder.LITTLE_ENDIAN);

        SuperblockRecord back = Superblock.decode(b);

        assertThat(back).isEqualTo(record);
        assertThat(back.journalUuid()).contains(JOURNAL);
        assertThat(b.getInt(0x00C)).isEqualTo(SuperblockRecord.FLAG_CLEAN | SuperblockRecord.FLAG_JOURNALED);
        assertThat(HexFormat.of().formatHex(bytes(b, 0x0C0, 16))).isEqualTo(JOURNAL.toString().replace("-", ""));
        assertThat(bytes(b, 0x0D0, 0x100 - 0x0D0)).as("the rest of the old reserved area").containsOnly(0);
    }

    @Test
    void shouldRoundTripACommandJournalAndClearItWithTheJournal() {
        SuperblockRecord record = record(7, 1).withJournal(Optional.of(JOURNAL), true);
        ByteBuffer b = Superblock.encode(record).order(ByteOrder.LITTLE_ENDIAN);

        SuperblockRecord back = Superblock.decode(b);

        assertThat(back.commandJournal()).isTrue();
        assertThat(b.getInt(0x00C)).isEqualTo(SuperblockRecord.FLAG_CLEAN | SuperblockRecord.FLAG_JOURNALED
                | SuperblockRecord.FLAG_COMMAND_JOURNAL);
        assertThat(back.withJournal(Optional.empty()).commandJournal()).as("no journal, no mode").isFalse();
        assertThat(back.withJournal(Optional.of(JOURNAL)).commandJournal()).as("a data journal").isFalse();
        SuperblockRecord r = record(7, 1);
        assertThatThrownBy(() -> new SuperblockRecord(r.generation(), r.geometry(), r.memberUuid(), r.slot(), r.epoch(),
                r.created(), r.updated(), SuperblockRecord.FLAG_COMMAND_JOURNAL, Optional.empty(), r.members()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("COMMAND_JOURNAL but not JOURNALED");
    }

    @Test
    void shouldRoundTripNoJournalAsZeroesAndAClearFlag() {
        SuperblockRecord record = record(7, 1).withJournal(Optional.of(JOURNAL)).withJournal(Optional.empty());
        ByteBuffer b = Superblock.encode(record).order(ByteOrder.LITTLE_ENDIAN);

        SuperblockRecord back = Superblock.decode(b);

        assertThat(back).isEqualTo(record(7, 1));
        assertThat(back.journalUuid()).isEmpty();
        assertThat(b.getInt(0x00C) & SuperblockRecord.FLAG_JOURNALED).isZero();
        assertThat(bytes(b, 0x0C0, 0x100 - 0x0C0)).containsOnly(0);
    }

    /**
     * A copy written before the journal identity existed: built byte by byte from the version-1
     * diagram as it stood then (0x0C0..0x0FF reserved, flag bit 1 reserved), not by encode().
     */
    @Test
    void shouldReadACopyFromBeforeJournalsAsNoJournal() {
        SuperblockRecord expected = record(3, 2);
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, "PARITYSB".getBytes(StandardCharsets.US_ASCII));
        b.putInt(0x008, 1);
        b.putInt(0x00C, SuperblockRecord.FLAG_CLEAN);
        b.putLong(0x010, 3);
        b.putLong(0x018, 1);
        putUuid(b, 0x020, ARRAY);
        putUuid(b, 0x030, MEMBERS[2]);
        b.putInt(0x040, 2);
        b.putInt(0x044, 5);
        b.putInt(0x048, 512 * 1024);
        b.putInt(0x04C, 3);
        b.putLong(0x050, Superblock.DATA_OFFSET);
        b.putLong(0x058, 4L * 512 * 1024);
        b.putLong(0x060, expected.created().toEpochMilli());
        b.putLong(0x068, expected.updated().toEpochMilli());
        b.putInt(0x070, 3);
        b.putInt(0x074, 4);
        b.put(0x080, "tank".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 3; i++) {
            putUuid(b, 0x100 + i * 32, MEMBERS[i]);
            b.putInt(0x100 + i * 32 + 16, MemberState.ACTIVE.code());
        }
        rechecksum(b);

        SuperblockRecord back = Superblock.decode(b);

        assertThat(back).isEqualTo(expected);
        assertThat(back.journalUuid()).isEmpty();
        assertThat(back.flags() & SuperblockRecord.FLAG_JOURNALED).isZero();
    }

    @Test
    void shouldReportDamagedWhenTheJournalFlagAndUuidDisagree() throws IOException {
        ByteBuffer flagOnly = Superblock.encode(record(1, 0)).order(ByteOrder.LITTLE_ENDIAN);
        flagOnly.putInt(0x00C, flagOnly.getInt(0x00C) | SuperblockRecord.FLAG_JOURNALED);
        rechecksum(flagOnly);
        ByteBuffer uuidOnly = Superblock.encode(record(1, 0)).order(ByteOrder.LITTLE_ENDIAN);
        putUuid(uuidOnly, 0x0C0, JOURNAL);
        rechecksum(uuidOnly);

        assertThatThrownBy(() -> Superblock.decode(flagOnly)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("flags say JOURNALED but the journal UUID is zero");
        assertThatThrownBy(() -> Superblock.decode(uuidOnly)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("journal UUID " + JOURNAL + " is set but flags do not say JOURNALED");
        try (FileMember member = newMember()) {
            member.write(flagOnly.duplicate(), Superblock.COPY_A_OFFSET, false);
            member.write(uuidOnly.duplicate(), Superblock.COPY_B_OFFSET, false);

            SuperblockRead read = Superblock.read(member);

            assertThat(read.status()).isEqualTo(Status.DAMAGED);
            assertThat(read.detail()).contains("copy at 0: checksum matches but flags say JOURNALED",
                    "copy at 4096: checksum matches but journal UUID");
        }
    }

    @Test
    void shouldRefuseARecordWhoseJournalFlagAndUuidDisagree() {
        SuperblockRecord r = record(1, 0);
        int journaled = r.flags() | SuperblockRecord.FLAG_JOURNALED;

        assertThatThrownBy(() -> new SuperblockRecord(1, r.geometry(), r.memberUuid(), 0, 1, r.created(),
                r.updated(), journaled, Optional.empty(), r.members()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("flags say JOURNALED");
        assertThatThrownBy(() -> new SuperblockRecord(1, r.geometry(), r.memberUuid(), 0, 1, r.created(),
                r.updated(), r.flags(), Optional.of(JOURNAL), r.members()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("flags do not say JOURNALED");
        assertThatThrownBy(() -> r.withJournal(Optional.of(new UUID(0, 0))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("all zero, which means no journal");
    }

    private FileMember newMember() throws IOException {
        return FileMember.createSparse(dir.resolve("m" + System.nanoTime() + ".img"), 2L << 20);
    }

    /** A 3-member array record named "tank" as member {@code slot} would hold it. */
    private static SuperblockRecord record(long generation, int slot) {
        ArrayGeometry geometry = new ArrayGeometry(ARRAY, "tank", 5, 512 * 1024, 3, Superblock.DATA_OFFSET,
                4L * 512 * 1024);
        List<MemberEntry> table = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            table.add(MemberEntry.active(MEMBERS[i]));
        }
        return new SuperblockRecord(generation, geometry, MEMBERS[slot], slot, 1,
                Instant.parse("2025-06-01T10:00:00Z"), Instant.parse("2025-06-01T10:00:00Z").plusSeconds(generation % 1000),
                SuperblockRecord.FLAG_CLEAN, table);
    }

    private static SuperblockRecord readRecord(FileMember member) throws IOException {
        SuperblockRead read = Superblock.read(member);
        assertThat(read.status()).as(read.detail()).isEqualTo(Status.OK);
        return read.record().orElseThrow();
    }

    /** The generation field of copy A and copy B, raw from the member. */
    private static List<Long> generationsOnDisk(FileMember member) throws IOException {
        ByteBuffer both = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        member.read(both, 0);
        return List.of(both.getLong(0x010), both.getLong(4096 + 0x010));
    }

    private static void flipByte(FileMember member, long at) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        member.read(one, at);
        one.put(0, (byte) (one.get(0) ^ 0x40)).rewind();
        member.write(one, at, false);
    }

    private static void rechecksum(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(bytes(b, 0, 0xFFC));
        b.putInt(0xFFC, (int) crc.getValue());
    }

    /** A UUID as the diagram stores it: 16 bytes in RFC 4122 (printed) order. */
    private static void putUuid(ByteBuffer b, int at, UUID uuid) {
        b.put(at, HexFormat.of().parseHex(uuid.toString().replace("-", "")));
    }

    private static byte[] bytes(ByteBuffer b, int at, int length) {
        byte[] out = new byte[length];
        b.get(at, out);
        return out;
    }
}
