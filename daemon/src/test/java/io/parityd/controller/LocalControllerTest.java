package io.parityd.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parityd.block.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The single-process controller: off-loop execution, error classification, orderly close. */
class LocalControllerTest {

    /** A byte-array device whose behaviour the tests can bend. */
    private static class ArrayDevice implements BlockDevice {
        final byte[] data = new byte[1 << 20];
        final AtomicInteger flushes = new AtomicInteger();
        volatile IOException failWrites;
        volatile boolean fastZero = true;
        volatile CountDownLatch gate;
        volatile String ioThread;

        @Override
        public String describe() {
            return "array";
        }

        @Override
        public long size() {
            return data.length;
        }

        @Override
        public void read(ByteBuffer dst, long offset) {
            ioThread = Thread.currentThread().getName();
            dst.put(data, (int) offset, dst.remaining());
        }

        @Override
        public void write(ByteBuffer src, long offset, boolean fua) throws IOException {
            if (gate != null) {
                try {
                    gate.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            if (failWrites != null) {
                throw failWrites;
            }
            src.get(data, (int) offset, src.remaining());
        }

        @Override
        public void writeZeroes(long offset, long length, boolean mayDeallocate, boolean fua) {
            java.util.Arrays.fill(data, (int) offset, (int) (offset + length), (byte) 0);
        }

        @Override
        public boolean zeroesFast(long offset, long length, boolean mayDeallocate) {
            return fastZero;
        }

        @Override
        public void trim(long offset, long length, boolean fua) {
        }

        @Override
        public void flush() {
            flushes.incrementAndGet();
        }

        @Override
        public void close() {
        }
    }

    @Test
    void shouldRunRequestsOnIoThreadsAndReadBackWrites() throws Exception {
        ArrayDevice device = new ArrayDevice();
        try (LocalController c = new LocalController(device, 2)) {
            c.write(4096, ByteBuffer.wrap("hello".getBytes()), false).get(10, TimeUnit.SECONDS);
            ByteBuffer dst = ByteBuffer.allocate(5);
            c.read(4096, dst).get(10, TimeUnit.SECONDS);
            assertThat(new String(dst.array())).isEqualTo("hello");
            assertThat(device.ioThread).startsWith("parityd-io-");
        }
    }

    @Test
    void shouldClassifyFailuresForTheClient() throws Exception {
        ArrayDevice device = new ArrayDevice();
        try (LocalController c = new LocalController(device, 1)) {
            device.failWrites = new IOException("No space left on device");
            assertThat(reason(c.write(0, ByteBuffer.allocate(512), false))).isEqualTo(RequestFailedException.Reason.NO_SPACE);
            device.failWrites = new IOException("Input/output error");
            assertThat(reason(c.write(0, ByteBuffer.allocate(512), false))).isEqualTo(RequestFailedException.Reason.IO_ERROR);
            device.failWrites = new io.parityd.member.NativeIoException("pwrite", "/m0", 122, "Disk quota exceeded");
            assertThat(reason(c.write(0, ByteBuffer.allocate(512), false))).isEqualTo(RequestFailedException.Reason.NO_SPACE);
            device.failWrites = new io.parityd.member.NativeIoException("pwrite", "/m0", 5, "no space left in the message, but EIO");
            assertThat(reason(c.write(0, ByteBuffer.allocate(512), false))).as("errno wins over text").isEqualTo(RequestFailedException.Reason.IO_ERROR);
        }
    }

    @Test
    void shouldRefuseSlowFastZeroWithoutChangingAnything() throws Exception {
        ArrayDevice device = new ArrayDevice();
        java.util.Arrays.fill(device.data, (byte) 7);
        device.fastZero = false;
        try (LocalController c = new LocalController(device, 1)) {
            assertThat(reason(c.writeZeroes(0, 4096, true, true, false))).isEqualTo(RequestFailedException.Reason.NOT_FAST);
            assertThat(device.data[0]).isEqualTo((byte) 7);
            c.writeZeroes(0, 4096, true, false, false).get(10, TimeUnit.SECONDS);
            assertThat(device.data[0]).as("without FAST_ZERO it zeroes anyway").isZero();
        }
    }

    @Test
    void shouldFinishInFlightWorkOnCloseThenRefuseNewWork() throws Exception {
        ArrayDevice device = new ArrayDevice();
        device.gate = new CountDownLatch(1);
        LocalController c = new LocalController(device, 1);
        CompletableFuture<Void> inFlight = c.write(0, ByteBuffer.wrap(new byte[] {1}), false);
        Thread closer = new Thread(() -> {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        closer.start();
        device.gate.countDown();
        closer.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(inFlight).isCompleted();
        assertThat(device.data[0]).isEqualTo((byte) 1);
        assertThat(device.flushes.get()).as("close flushes").isGreaterThanOrEqualTo(1);
        assertThat(reason(c.flush())).isEqualTo(RequestFailedException.Reason.SHUTTING_DOWN);
    }

    @Test
    void shouldRejectNonsensicalThreadCount() {
        assertThatThrownBy(() -> new LocalController(new ArrayDevice(), 0)).isInstanceOf(IllegalArgumentException.class);
    }

    private static RequestFailedException.Reason reason(CompletableFuture<Void> f) throws Exception {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return ((RequestFailedException) e.getCause()).reason();
        }
        throw new AssertionError("expected the request to fail");
    }
}
