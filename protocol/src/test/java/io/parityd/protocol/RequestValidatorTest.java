package io.parityd.protocol;

import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.management.ManagementFactory;
import java.util.Set;
import java.util.stream.Stream;

import static io.parityd.protocol.NbdError.EINVAL;
import static io.parityd.protocol.NbdError.ENOSPC;
import static io.parityd.protocol.NbdError.EPERM;
import static org.assertj.core.api.Assertions.assertThat;

/** Every validation rule, as a table: one row per case, valid ones included. */
class RequestValidatorTest {

    private static final long SIZE = 1L << 30;
    private static final int MAX = 32 << 20;
    private static final BlockSizes SIZES = new BlockSizes(512, 4096, MAX);

    private static final int READ = 0;
    private static final int WRITE = 1;
    private static final int DISC = 2;
    private static final int FLUSH = 3;
    private static final int TRIM = 4;
    private static final int CACHE = 5;
    private static final int WRITE_ZEROES = 6;
    private static final int BLOCK_STATUS = 7;
    private static final int RESIZE = 8;

    private static final int FUA = 1;
    private static final int NO_HOLE = 2;
    private static final int DF = 4;
    private static final int REQ_ONE = 8;
    private static final int FAST_ZERO = 16;
    private static final int PAYLOAD_LEN = 32;

    /** Everything advertised, structured replies (so DF too). */
    private static final Session FULL = session("disk", true, TransmissionFlag.SEND_FLUSH, TransmissionFlag.SEND_FUA,
            TransmissionFlag.SEND_TRIM, TransmissionFlag.SEND_WRITE_ZEROES, TransmissionFlag.SEND_FAST_ZERO,
            TransmissionFlag.SEND_CACHE);
    /** Nothing advertised, simple replies. */
    private static final Session BARE = session("bare", false);
    private static final Session NO_FAST_ZERO = session("slow", false, TransmissionFlag.SEND_WRITE_ZEROES);
    private static final Session READ_ONLY = session("ro", false, TransmissionFlag.READ_ONLY,
            TransmissionFlag.SEND_TRIM, TransmissionFlag.SEND_WRITE_ZEROES, TransmissionFlag.SEND_FLUSH);

    private static Session session(String name, boolean structured, TransmissionFlag... flags) {
        ExportInfo export = new ExportInfo(name, "", SIZE, SIZES, Set.of(flags));
        return new Session(export, structured, HandshakeHandler.transmissionFlags(export, structured), true);
    }

    private static Arguments ok(String name, Session s, int type, int flags, long offset, long length) {
        return Arguments.of(name, s, type, flags, offset, length, false, null, null);
    }

    private static Arguments no(String name, Session s, int type, int flags, long offset, long length,
                                NbdError error, String reason) {
        return Arguments.of(name, s, type, flags, offset, length, false, error, reason);
    }

    static Stream<Arguments> table() {
        long end = SIZE;
        long top = 0xfffffffffffff000L; // 2^64 - 4096: aligned, unsigned, far past any export
        return Stream.of(
                // commands
                no("unknown command", FULL, 42, 0, 0, 512, EINVAL, "unknown command 42"),
                no("CACHE not advertised", BARE, CACHE, 0, 0, 512, EINVAL, "CACHE was not advertised (NBD_FLAG_SEND_CACHE"),
                ok("cache", FULL, CACHE, 0, 4096, 1 << 20),
                ok("cache FUA", FULL, CACHE, FUA, 0, 4096),
                no("cache DF", FULL, CACHE, DF, 0, 4096, EINVAL, "command flags 0x0004 (DF) are not valid on CACHE"),
                no("cache unaligned", FULL, CACHE, 0, 100, 4096, EINVAL, "not aligned"),
                no("cache over the maximum", FULL, CACHE, 0, 0, MAX + 512, EINVAL, "exceeds the maximum block size"),
                no("cache past the end", FULL, CACHE, 0, end - 512, 4096, EINVAL, "ends past the export size"),
                ok("cache on a read-only export", session("roc", false, TransmissionFlag.READ_ONLY,
                        TransmissionFlag.SEND_CACHE), CACHE, 0, 0, 4096),
                no("BLOCK_STATUS without meta context", FULL, BLOCK_STATUS, 0, 0, 512, EINVAL, "metadata context"),
                no("RESIZE not offered", FULL, RESIZE, 0, 0, 512, EINVAL, "RESIZE is not offered"),
                no("FLUSH not advertised", BARE, FLUSH, 0, 0, 0, EINVAL, "FLUSH was not advertised (NBD_FLAG_SEND_FLUSH"),
                no("TRIM not advertised", BARE, TRIM, 0, 0, 512, EINVAL, "NBD_FLAG_SEND_TRIM"),
                no("WRITE_ZEROES not advertised", BARE, WRITE_ZEROES, 0, 0, 512, EINVAL, "NBD_FLAG_SEND_WRITE_ZEROES"),
                // flags
                ok("read", FULL, READ, 0, 0, 4096),
                ok("read FUA", FULL, READ, FUA, 0, 4096),
                no("read FUA not advertised", BARE, READ, FUA, 0, 4096, EINVAL, "command flags 0x0001 (FUA) are not valid on READ"),
                ok("read DF with structured replies", FULL, READ, DF, 0, 4096),
                no("read DF without SEND_DF", BARE, READ, DF, 0, 4096, EINVAL, "(DF)"),
                no("read NO_HOLE", FULL, READ, NO_HOLE, 0, 4096, EINVAL, "(NO_HOLE)"),
                no("read REQ_ONE", FULL, READ, REQ_ONE, 0, 4096, EINVAL, "(REQ_ONE)"),
                no("read PAYLOAD_LEN", FULL, READ, PAYLOAD_LEN, 0, 4096, EINVAL, "(PAYLOAD_LEN)"),
                no("read unknown flag", FULL, READ, 0x8000 | FUA, 0, 4096, EINVAL, "0x8000 (unknown 0x8000)"),
                ok("write FUA", FULL, WRITE, FUA, 0, 4096),
                no("write DF", FULL, WRITE, DF, 0, 4096, EINVAL, "(DF) are not valid on WRITE"),
                no("write FAST_ZERO", FULL, WRITE, FAST_ZERO, 0, 4096, EINVAL, "(FAST_ZERO)"),
                no("write PAYLOAD_LEN", FULL, WRITE, PAYLOAD_LEN, 0, 4096, EINVAL, "(PAYLOAD_LEN)"),
                no("write FUA not advertised", BARE, WRITE, FUA, 0, 4096, EINVAL, "(FUA)"),
                ok("write zeroes NO_HOLE|FAST_ZERO|FUA", FULL, WRITE_ZEROES, NO_HOLE | FAST_ZERO | FUA, 0, 4096),
                ok("write zeroes NO_HOLE without FAST_ZERO", NO_FAST_ZERO, WRITE_ZEROES, NO_HOLE, 0, 4096),
                no("write zeroes FAST_ZERO not advertised", NO_FAST_ZERO, WRITE_ZEROES, FAST_ZERO, 0, 4096, EINVAL, "(FAST_ZERO)"),
                no("write zeroes DF", FULL, WRITE_ZEROES, DF, 0, 4096, EINVAL, "(DF)"),
                no("trim NO_HOLE", FULL, TRIM, NO_HOLE, 0, 4096, EINVAL, "(NO_HOLE) are not valid on TRIM"),
                ok("trim FUA", FULL, TRIM, FUA, 0, 4096),
                ok("flush FUA", FULL, FLUSH, FUA, 0, 0),
                no("flush DF", FULL, FLUSH, DF, 0, 0, EINVAL, "(DF)"),
                ok("disc", BARE, DISC, 0, 0, 0),
                no("disc FUA not advertised", BARE, DISC, FUA, 0, 0, EINVAL, "(FUA)"),
                // read-only
                ok("read on read-only", READ_ONLY, READ, 0, 0, 4096),
                no("write on read-only", READ_ONLY, WRITE, 0, 0, 4096, EPERM, "write on read-only export 'ro'"),
                no("trim on read-only", READ_ONLY, TRIM, 0, 0, 4096, EPERM, "trim on read-only export"),
                no("write zeroes on read-only", READ_ONLY, WRITE_ZEROES, 0, 0, 4096, EPERM, "write-zeroes on read-only"),
                ok("flush on read-only", READ_ONLY, FLUSH, 0, 0, 0),
                // FLUSH and DISC carry no range
                no("flush with offset", FULL, FLUSH, 0, 512, 0, EINVAL, "FLUSH must have offset and length 0, got offset 512 length 0"),
                no("flush with length", FULL, FLUSH, 0, 0, 512, EINVAL, "length 512"),
                no("disc with offset", FULL, DISC, 0, top, 0, EINVAL, "got offset 18446744073709547520"),
                // alignment
                no("read misaligned offset", FULL, READ, 0, 100, 512, EINVAL, "read of 512 bytes at 100 is not aligned to the minimum block size 512"),
                no("read misaligned length", FULL, READ, 0, 0, 100, EINVAL, "not aligned"),
                no("write misaligned", FULL, WRITE, 0, 513, 512, EINVAL, "write of 512 bytes at 513 is not aligned"),
                no("trim misaligned", FULL, TRIM, 0, 0, 1000, EINVAL, "not aligned"),
                no("write zeroes misaligned", FULL, WRITE_ZEROES, 0, 256, 512, EINVAL, "not aligned"),
                no("misaligned offset near 2^64", FULL, READ, 0, 0xffffffffffffff01L, 512, EINVAL, "at 18446744073709551361 is not aligned"),
                // size
                ok("read of exactly the maximum", FULL, READ, 0, 0, MAX),
                no("read above the maximum", FULL, READ, 0, 0, MAX + 512, EINVAL, "read of 33554944 bytes exceeds the maximum block size 33554432"),
                no("write above the maximum", FULL, WRITE, 0, 0, MAX + 512, EINVAL, "exceeds the maximum block size"),
                ok("write zeroes above the maximum", FULL, WRITE_ZEROES, 0, 0, 4L * MAX),
                ok("trim of the whole export, above the maximum", FULL, TRIM, 0, 0, SIZE),
                // range
                ok("read the last block", FULL, READ, 0, end - 4096, 4096),
                no("read past the end", FULL, READ, 0, end, 4096, EINVAL, "read of 4096 bytes at 1073741824 ends past the export size 1073741824"),
                no("read straddling the end", FULL, READ, 0, end - 512, 1024, EINVAL, "ends past the export size"),
                no("read at 2^63 (negative as a long)", FULL, READ, 0, Long.MIN_VALUE, 512, EINVAL, "at 9223372036854775808 ends past"),
                no("read wrapping past 2^64", FULL, READ, 0, top, 8192, EINVAL, "at 18446744073709547520 ends past"),
                no("read wrapping past 2^63", FULL, READ, 0, Long.MAX_VALUE - 4095, 8192, EINVAL, "ends past"),
                no("trim past the end", FULL, TRIM, 0, end, 512, EINVAL, "trim of 512 bytes at 1073741824 ends past"),
                ok("write the last block", FULL, WRITE, 0, end - 512, 512),
                no("write past the end", FULL, WRITE, 0, end, 512, ENOSPC, "write of 512 bytes at 1073741824 ends past the export size"),
                no("write wrapping past 2^64", FULL, WRITE, 0, top, 8192, ENOSPC, "ends past"),
                no("write zeroes past the end", FULL, WRITE_ZEROES, 0, end - 512, 1024, ENOSPC, "write-zeroes of 1024 bytes"),
                no("write zeroes wrapping", FULL, WRITE_ZEROES, 0, top, 0xfffff000L, ENOSPC, "ends past"),
                // zero length
                ok("zero-length read", FULL, READ, 0, 0, 0),
                ok("zero-length read at the end", FULL, READ, 0, end, 0),
                no("zero-length read beyond the end", FULL, READ, 0, end + 512, 0, EINVAL, "ends past"),
                ok("zero-length write", FULL, WRITE, 0, 4096, 0),
                ok("zero-length trim", FULL, TRIM, 0, 4096, 0),
                ok("zero-length write zeroes", FULL, WRITE_ZEROES, 0, 4096, 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void shouldApplyTheRule(String name, Session session, int type, int flags, long offset, long length,
                            boolean dropped, NbdError error, String reason) {
        NbdRequest request = new NbdRequest(type, flags, 7, offset, length, Unpooled.EMPTY_BUFFER, dropped);
        Refusal refusal = RequestValidator.validate(request, session);
        if (error == null) {
            assertThat(refusal).as(name).isNull();
        } else {
            assertThat(refusal).as(name).isNotNull();
            assertThat(refusal.error()).as(name).isEqualTo(error);
            assertThat(refusal.reason()).as(name).contains(reason);
        }
    }

    @Test
    void shouldRefuseADrainedWriteNamingBothSizes() {
        NbdRequest request = new NbdRequest(WRITE, 0, 1, 0, MAX + 512, Unpooled.EMPTY_BUFFER, true);
        assertThat(RequestValidator.validate(request, FULL)).isEqualTo(
                new Refusal(EINVAL, "write of 33554944 bytes exceeds the maximum payload of 33554432"));
    }

    @Test
    void shouldPreferEpermOverTheDroppedPayloadOnAReadOnlyExport() {
        NbdRequest request = new NbdRequest(WRITE, 0, 1, 0, MAX + 512, Unpooled.EMPTY_BUFFER, true);
        assertThat(RequestValidator.validate(request, READ_ONLY).error()).isEqualTo(EPERM);
    }

    @Test
    void shouldNotAllocateOnTheHappyPath() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        NbdRequest read = new NbdRequest(READ, FUA | DF, 1, 4096, 4096);
        NbdRequest write = new NbdRequest(WRITE, FUA, 2, 8192, 4096, Unpooled.EMPTY_BUFFER, false);
        NbdRequest zeroes = new NbdRequest(WRITE_ZEROES, NO_HOLE, 3, 0, 1 << 20);
        for (int i = 0; i < 20_000; i++) {
            RequestValidator.validate(read, FULL);
            RequestValidator.validate(write, FULL);
            RequestValidator.validate(zeroes, FULL);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        int refused = 0;
        for (int i = 0; i < 100_000; i++) {
            refused += RequestValidator.validate(read, FULL) == null ? 0 : 1;
            refused += RequestValidator.validate(write, FULL) == null ? 0 : 1;
            refused += RequestValidator.validate(zeroes, FULL) == null ? 0 : 1;
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(refused).isZero();
        // 300k validations; a single allocation each would be megabytes. Allow for the counter's own noise.
        assertThat(allocated).isLessThan(64 * 1024);
    }
}
