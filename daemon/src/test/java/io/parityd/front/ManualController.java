package io.parityd.front;

import io.parityd.controller.Admission;
import io.parityd.controller.AdmissionGate;
import io.parityd.controller.Controller;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A controller whose requests finish only when the test says so, in whatever order it says:
 * the way to see the front reply out of order, hold payloads, and apply backpressure. Its
 * admission is a gate the test flips.
 */
final class ManualController implements Controller {

    /** One request the front handed over. {@code buffer} is the caller's buffer (reads fill it). */
    record Call(String kind, long offset, long length, boolean flag, ByteBuffer buffer, CompletableFuture<Void> done) {
    }

    final List<Call> calls = new ArrayList<>();
    final AdmissionGate admission = new AdmissionGate();
    private final long size;

    ManualController(long size) {
        this.size = size;
    }

    @Override
    public long size() {
        return size;
    }

    private CompletableFuture<Void> record(String kind, long offset, long length, boolean flag, ByteBuffer buffer) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        calls.add(new Call(kind, offset, length, flag, buffer, done));
        return done;
    }

    @Override
    public CompletableFuture<Void> read(long offset, ByteBuffer dst) {
        return record("read", offset, dst.remaining(), false, dst);
    }

    @Override
    public CompletableFuture<Void> write(long offset, io.netty.buffer.ByteBuf data, boolean fua) {
        return record("write", offset, data.readableBytes(), fua, data.nioBuffer());
    }

    @Override
    public CompletableFuture<Void> writeZeroes(long offset, long length, boolean mayDeallocate, boolean fastOnly, boolean fua) {
        return record("zero" + (mayDeallocate ? "" : "-nohole") + (fastOnly ? "-fast" : ""), offset, length, fua, null);
    }

    @Override
    public CompletableFuture<Void> trim(long offset, long length, boolean fua) {
        return record("trim", offset, length, fua, null);
    }

    @Override
    public CompletableFuture<Void> flush() {
        return record("flush", 0, 0, false, null);
    }

    @Override
    public Admission admission() {
        return admission;
    }

    @Override
    public void close() {
    }
}
